/** Stands in for a vault id in MCP snippets until the org has a vault to pick. */
export const VAULT_PLACEHOLDER = "<vault-uuid>";
