/* global module */
// The local chain for crypto-proxy tests (tests/helpers/evm-node.ts). A reverting transaction is
// mined with status 0, as on a real network, instead of Hardhat's default of refusing it at send.
module.exports = { networks: { hardhat: { chainId: 31337, throwOnTransactionFailures: false } } };
