// Whether a process exists, for the scripts that find a recorded pid (a build lock's owner, a test
// worker): signal 0 checks without signalling. EPERM means it exists under another user.
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e?.code === "EPERM";
  }
}
