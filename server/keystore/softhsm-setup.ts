import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { acquireLibrary, findTokenSlot, pkcs11js } from "./pkcs11-library";

/**
 * SoftHSM2 for self-hosters and tests: a token directory and config under the data dir, initialised
 * once with a generated PIN stored in a 0600 file. A real HSM is configured by its operator instead
 * (TALON_PKCS11_MODULE, TALON_PKCS11_TOKEN_LABEL, TALON_PKCS11_PIN[_FILE]) and this is not used.
 */
export type SoftHsmPaths = { confFile: string; tokenDir: string; pinFile: string };

const MODULE_CANDIDATES = [
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/local/lib/softhsm/libsofthsm2.so",
  "/opt/homebrew/lib/softhsm/libsofthsm2.so",
];

export function softHsmModulePath(): string | undefined {
  const configured = process.env.TALON_PKCS11_MODULE;
  if (configured && path.basename(configured).includes("softhsm")) return configured;
  return MODULE_CANDIDATES.find((p) => existsSync(p));
}

export function softHsmPaths(dataDir: string, pinFile?: string): SoftHsmPaths {
  const hsmDir = path.join(dataDir, "hsm");
  return { confFile: path.join(hsmDir, "softhsm2.conf"), tokenDir: path.join(hsmDir, "tokens"), pinFile: pinFile ?? path.join(hsmDir, "pin") };
}

const SET_BY_US = Symbol.for("talon.softhsm.conf");
type WithConf = typeof globalThis & { [SET_BY_US]?: string };

/**
 * Whether the keystore may point SoftHSM at its data dir: yes unless the operator set SOFTHSM2_CONF
 * themselves (a value this module set for another data dir does not count).
 */
export function softHsmConfigIsOurs(): boolean {
  const conf = process.env.SOFTHSM2_CONF;
  return !conf || (globalThis as WithConf)[SET_BY_US] === conf;
}

/** Writes the SoftHSM2 config for this data dir and points the process at it (before C_Initialize). */
export function useSoftHsmConfig(dataDir: string): SoftHsmPaths {
  const p = softHsmPaths(dataDir);
  mkdirSync(p.tokenDir, { recursive: true, mode: 0o700 });
  // turbopackIgnore: these paths are runtime data, not project files for Next's output tracing to follow.
  if (!existsSync(/*turbopackIgnore: true*/ p.confFile)) {
    writeFileSync(p.confFile, `directories.tokendir = ${p.tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  }
  process.env.SOFTHSM2_CONF = p.confFile;
  (globalThis as WithConf)[SET_BY_US] = p.confFile;
  return p;
}

/**
 * Creates and initialises the token when the data dir has none. Returns true when it created one.
 * Done through PKCS#11 itself (C_InitToken, then C_InitPIN as the SO) so that no PIN ever appears on a
 * command line, where /proc would show it to every local user. The SO PIN is random and discarded:
 * nobody needs to re-initialise a token that holds live keys.
 */
export function ensureSoftHsmToken(dataDir: string, label: string, pinFile?: string): boolean {
  if (!label || Buffer.byteLength(label) > 32) throw new Error("A PKCS#11 token label is 1 to 32 bytes");
  const p = useSoftHsmConfig(dataDir);
  const p2 = softHsmPaths(dataDir, pinFile);
  if (readdirSync(/*turbopackIgnore: true*/ p.tokenDir).length > 0 && existsSync(/*turbopackIgnore: true*/ p2.pinFile)) return false;
  const modulePath = softHsmModulePath();
  if (!modulePath) throw new Error("SoftHSM2 is not installed (libsofthsm2.so not found): install softhsm2 or set TALON_PKCS11_MODULE");
  const lib = acquireLibrary(modulePath);
  try {
    const { p11 } = lib;
    if (findTokenSlot(p11, label)) {
      if (existsSync(/*turbopackIgnore: true*/ p2.pinFile)) return false;
      throw new Error(`SoftHSM token "${label}" exists but its PIN file ${p2.pinFile} is missing`);
    }
    const slot = p11.C_GetSlotList(true).find((s) => (p11.C_GetTokenInfo(s).flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0);
    if (!slot) throw new Error("SoftHSM has no free slot to initialise a token in");
    const pin = randomBytes(24).toString("base64url");
    const soPin = randomBytes(24).toString("base64url");
    // Written first: a token whose PIN was lost would be unusable; a PIN file without a token is harmless.
    mkdirSync(path.dirname(p2.pinFile), { recursive: true, mode: 0o700 });
    writeFileSync(p2.pinFile, pin + "\n", { mode: 0o600 });
    chmodSync(p2.pinFile, 0o600);
    // C_InitToken reads exactly 32 bytes of label: blank-padded as PKCS#11 requires.
    p11.C_InitToken(slot, soPin, label + " ".repeat(32 - Buffer.byteLength(label)));
    const session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      p11.C_Login(session, pkcs11js.CKU_SO, soPin);
      p11.C_InitPIN(session, pin);
      p11.C_Logout(session);
    } finally {
      p11.C_CloseSession(session);
    }
    return true;
  } finally {
    lib.release();
  }
}

export function softHsmAvailable(): boolean {
  if (softHsmModulePath()) return true;
  try {
    execFileSync("softhsm2-util", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
