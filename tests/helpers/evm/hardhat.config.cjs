/* global module */
// The local chain for crypto-proxy tests (tests/helpers/evm-node.ts). Mined every 100 ms instead of
// per transaction, so the pool queues a nonce that arrives before its predecessor, as real nodes do;
// a reverting transaction is mined with status 0 instead of being refused at send.
module.exports = { networks: { hardhat: { chainId: 31337, throwOnTransactionFailures: false, mining: { auto: false, interval: 100 } } } };
