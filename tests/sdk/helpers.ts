/** A `fetch` that records `METHOD /path` of every call, to count exchanges and prove no retries. */
export function countingFetch() {
  const calls: string[] = [];
  const f: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    calls.push(`${init?.method ?? "GET"} ${new URL(url).pathname}`);
    return fetch(input, init);
  };
  return {
    fetch: f,
    calls,
    count: (needle: string) => calls.filter((c) => c === needle).length,
    reset: () => calls.splice(0),
  };
}

export const AGENT_TOKEN = "POST /v1/auth/agent-token";
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
