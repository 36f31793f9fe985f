// What the scripts read about other processes by pid (a build lock's owner, a test worker, a bench's
// server), from signals and Linux's /proc.
import { readdirSync, readFileSync } from "node:fs";

/** Whether a process exists: signal 0 checks without signalling. EPERM means it exists under another user. */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e?.code === "EPERM";
  }
}

/**
 * The fields of /proc/<pid>/stat after the command name (which may hold spaces, inside parentheses):
 * index 0 is field 3 (state), 1 the parent's pid, 11 and 12 utime and stime. Null without /proc or once
 * the process has ended.
 */
export function statFields(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** The pids of the processes whose command name (/proc/<pid>/comm) is `name`; empty without /proc. */
export function pidsNamed(name) {
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const pids = [];
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name) pids.push(Number(entry));
    } catch {
      // Ended while we looked.
    }
  }
  return pids;
}
