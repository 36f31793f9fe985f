/** A dashboard sign-in as the account page lists it (server/dashboard/sessions.ts builds them). */
export type SessionSummary = { id: string; method: string; ip: string; user_agent: string; created_at: string; last_seen_at: string; current: boolean };
