import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { RequestHistogram } from "../../server/metrics/request-histogram";

/**
 * The API request histogram counts requests itself and is formatted by prom-client when scraped
 * (server/metrics/request-histogram.ts): its exposition, text and JSON, must be what a prom-client
 * Histogram gives for the same requests — the same series, buckets (a value on a bound counts in that
 * bound's bucket), sums and counts.
 */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const NAME = "talon_http_request_duration_seconds";
const HELP = "API requests by method, route template and status code";

function both() {
  const ours = new Registry();
  const theirs = new Registry();
  const h = new RequestHistogram(NAME, HELP, BUCKETS, ours);
  const p = new Histogram({ name: NAME, help: HELP, labelNames: ["method", "route", "status"] as const, buckets: BUCKETS, registers: [theirs] });
  const observe = (method: string, route: string, status: number, seconds: number) => {
    h.observe(method, route, status, seconds);
    p.labels(method, route, String(status)).observe(seconds);
  };
  return { ours, theirs, h, observe };
}

describe("API request histogram", () => {
  it("exposes what a prom-client Histogram would, in text and JSON", async () => {
    const { ours, theirs, observe } = both();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const route = "/v1/vaults/:id/secrets/:path{.+}";
    for (const s of [0.0004, 0.001, 0.0011, 0.0025, 0.003, 0.2, 10, 11, 0]) observe("GET", route, 200, s);
    observe("PUT", route, 201, 0.004);
    observe("GET", route, 404, 0.05);
    observe("OTHER", "unmatched", 405, 0.0001);
    observe("GET", "/v1/health", 200, 0.002);
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain(`${NAME}_bucket{le="0.001",method="GET",route="${route}",status="200"} 3`);
    expect(text).toContain(`${NAME}_bucket{le="+Inf",method="GET",route="${route}",status="200"} 9`);
    // Without exemplars (null in prom-client's values; Talon enables none).
    const withoutExemplars = (m: Awaited<ReturnType<Registry["getMetricsAsJSON"]>>) =>
      m.map((x) => ({ ...x, values: x.values.map((v) => Object.fromEntries(Object.entries(v).filter(([k]) => k !== "exemplar"))) }));
    expect(await ours.getMetricsAsJSON()).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()));
  });

  it("ignores a duration that is not a finite number, and empties on reset", async () => {
    const { ours, theirs, h, observe } = both();
    h.observe("GET", "/v1/health", 200, Number.NaN);
    observe("GET", "/v1/health", 200, 0.002);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).not.toContain("_count");
  });
});
