/**
 * The EIP-712 types of an EIP-3009 `transferWithAuthorization` (what an x402 `exact` payment signs),
 * for the SDK's x402 helpers and the server's verifier. Dependency-free: the SDK bundle imports it.
 */
export const TRANSFER_WITH_AUTHORIZATION_TYPES = {
  TransferWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;
