/** A tiny HTTP client for tests: JSON in, `{ status, body, headers, text }` out. */
export type TestResponse<T = any> = { status: number; body: T; text: string; headers: Headers }; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies are asserted field by field

export function client(baseUrl: string, token?: string) {
  async function call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<TestResponse<T>> { // eslint-disable-line @typescript-eslint/no-explicit-any -- see above
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed as T, text, headers: res.headers };
  }
  return {
    get: (p: string, h?: Record<string, string>) => call("GET", p, undefined, h),
    delete: (p: string, body?: unknown, h?: Record<string, string>) => call("DELETE", p, body, h),
    post: (p: string, body?: unknown, h?: Record<string, string>) => call("POST", p, body ?? {}, h),
    put: (p: string, body?: unknown, h?: Record<string, string>) => call("PUT", p, body, h),
    patch: (p: string, body?: unknown, h?: Record<string, string>) => call("PATCH", p, body, h),
    call,
    withToken: (t: string) => client(baseUrl, t),
  };
}
