export const ROOT: string;
export const SERVER_BUNDLE: string;
export const HASH_FILE: string;
export const NEXT_BUILD_ID: string;
export function sourceHash(): string;
export function buildState(): "current" | "missing" | "stale";
