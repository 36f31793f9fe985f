/**
 * The chains Talon knows (skill card "Supported Chains", plus a local development node): names,
 * EIP-155 ids, explorers. Data only, no imports: the server's registry (server/intents/chains.ts)
 * and the SDK's x402 helpers both read it.
 */
export type ChainDef = { name: string; displayName: string; chainId: number; explorerUrl: string; testnet: boolean; currency: "ETH" | "POL" };

export const CHAINS: readonly ChainDef[] = [
  { name: "ethereum", displayName: "Ethereum", chainId: 1, explorerUrl: "https://etherscan.io", testnet: false, currency: "ETH" },
  { name: "base", displayName: "Base", chainId: 8453, explorerUrl: "https://basescan.org", testnet: false, currency: "ETH" },
  { name: "optimism", displayName: "OP Mainnet", chainId: 10, explorerUrl: "https://optimistic.etherscan.io", testnet: false, currency: "ETH" },
  { name: "arbitrum-one", displayName: "Arbitrum One", chainId: 42161, explorerUrl: "https://arbiscan.io", testnet: false, currency: "ETH" },
  { name: "polygon", displayName: "Polygon", chainId: 137, explorerUrl: "https://polygonscan.com", testnet: false, currency: "POL" },
  { name: "sepolia", displayName: "Sepolia", chainId: 11155111, explorerUrl: "https://sepolia.etherscan.io", testnet: true, currency: "ETH" },
  { name: "base-sepolia", displayName: "Base Sepolia", chainId: 84532, explorerUrl: "https://sepolia.basescan.org", testnet: true, currency: "ETH" },
  // A development node (Hardhat, Anvil) on the operator's machine; it has no explorer.
  { name: "localhost", displayName: "Localhost", chainId: 31337, explorerUrl: "", testnet: true, currency: "ETH" },
];
