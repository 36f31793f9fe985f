import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { TransactionResponse } from "@/lib/contract/transactions";
import { TransactionsTable } from "./transactions-table";

const base: TransactionResponse = {
  id: "3b0a3c56-58e4-4c3e-9d51-3f4a3a1f0c01",
  agent_id: "7c5b7c2e-1d0b-4a8a-b4ce-7f7f0a6a2a11",
  chain: "base",
  chain_id: 8453,
  from: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  to: "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
  value_wei: "1500000000000000000",
  data: "0x",
  nonce: 4,
  tx_type: "eip1559",
  status: "confirmed",
  tx_hash: `0x${"ab".repeat(32)}`,
  error_message: null,
  simulation_status: "success",
  guardrails: [
    { rule: "tx_allowed_chains", decision: "allowed", limit: null },
    { rule: "tx_max_value_eth", decision: "allowed", limit: "2" },
  ],
  explorer_url: `https://basescan.org/tx/0x${"ab".repeat(32)}`,
  created_at: "2026-12-03T21:00:00.000Z",
  signed_at: "2026-12-03T21:00:01.000Z",
};

describe("TransactionsTable", () => {
  it("shows status, exact ETH value, the hash linked to the explorer and each guardrail decision", () => {
    const html = renderToStaticMarkup(createElement(TransactionsTable, { transactions: [base] }));
    expect(html).toContain(">confirmed<");
    expect(html).toContain("1.5 ETH");
    expect(html).toContain(`href="https://basescan.org/tx/0x${"ab".repeat(32)}"`);
    expect(html).toContain("tx_max_value_eth: allowed (2)");
  });

  it("shows a hash without a link when the chain has no explorer, and the error of a refused transaction", () => {
    const html = renderToStaticMarkup(
      createElement(TransactionsTable, {
        transactions: [{ ...base, chain: "localhost", explorer_url: null }, { ...base, id: "3b0a3c56-58e4-4c3e-9d51-3f4a3a1f0c02", status: "simulation_failed", tx_hash: null, error_message: "Reverter: always fails" }],
      }),
    );
    expect(html).not.toContain("<a ");
    expect(html).toContain("Reverter: always fails");
    expect(html).toContain(">simulation_failed<");
  });

  it("says so when there is nothing yet", () => {
    expect(renderToStaticMarkup(createElement(TransactionsTable, { transactions: [] }))).toContain("No transactions yet");
  });
});
