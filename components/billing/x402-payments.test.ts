import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { X402Payment, X402WellKnown } from "@/lib/contract/x402";
import { X402Payments } from "./x402-payments";

const offer: X402WellKnown = {
  x402Version: 1,
  enabled: true,
  description: "",
  applies_to: "",
  accepts: [
    {
      scheme: "exact",
      network: "base",
      maxAmountRequired: "10000",
      description: "",
      mimeType: "application/json",
      payTo: "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
      maxTimeoutSeconds: 300,
      asset: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
      extra: { name: "USD Coin", version: "2" },
    },
  ],
};

const settled: X402Payment = {
  id: "3b0a3c56-58e4-4c3e-9d51-3f4a3a1f0c01",
  network: "base",
  asset: offer.accepts[0]!.asset,
  payer: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  pay_to: offer.accepts[0]!.payTo,
  amount: "10000",
  status: "settled",
  tx_hash: `0x${"ab".repeat(32)}`,
  resource: "GET /v1/vaults",
  error: null,
  created_at: "2026-12-03T21:00:00.000Z",
  settled_at: "2026-12-03T21:00:01.000Z",
};

describe("X402Payments", () => {
  it("explains x402 with the server's terms and lists payments with the hash linked to the explorer", () => {
    const html = renderToStaticMarkup(createElement(X402Payments, { offer, payments: [settled], explorerUrl: "https://basescan.org" }));
    expect(html).toContain("10000 atomic units of USD Coin");
    expect(html).toContain(offer.accepts[0]!.payTo);
    expect(html).toContain(">settled<");
    expect(html).toContain(`href="https://basescan.org/tx/0x${"ab".repeat(32)}"`);
    expect(html).toContain("GET /v1/vaults");
  });

  it("shows a failed payment with its reason and no link; a server without x402 says so; no payments, an empty state", () => {
    const failed = { ...settled, id: "x", status: "failed" as const, tx_hash: null, error: "unexpected_settle_error: not mined" };
    const html = renderToStaticMarkup(createElement(X402Payments, { offer, payments: [failed], explorerUrl: "" }));
    expect(html).toContain(">failed<");
    expect(html).toContain("unexpected_settle_error: not mined");
    expect(html).not.toContain("/tx/");
    const off = renderToStaticMarkup(createElement(X402Payments, { offer: { ...offer, enabled: false, accepts: [] }, payments: [], explorerUrl: "" }));
    expect(off).toContain("does not take x402 payments");
    expect(off).toContain("No x402 payments yet");
    expect(off).not.toContain("Price per request");
  });
});
