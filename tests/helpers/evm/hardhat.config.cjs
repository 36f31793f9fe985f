// The local chain for crypto-proxy tests (tests/helpers/evm-node.ts). Mined every 100 ms instead of
// per transaction, so the pool queues a nonce that arrives before its predecessor, as real nodes do;
// a reverting transaction is mined with status 0 instead of being refused at send. Blocks may share a
// timestamp, so the chain's clock follows the wall clock (ten blocks a second would otherwise push it
// ten seconds ahead every second, and EIP-3009 authorizations valid for minutes would expire early).
module.exports = {
  networks: { hardhat: { chainId: 31337, throwOnTransactionFailures: false, allowBlocksWithSameTimestamp: true, mining: { auto: false, interval: 100 } } },
};
