export function alive(pid: number): boolean;
export function statFields(pid: number): string[] | null;
export function pidsNamed(name: string): number[];
