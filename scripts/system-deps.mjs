#!/usr/bin/env node
// The few Debian packages Talon needs beside node_modules: softhsm2 (the default keystore) and, for the
// browser tests, chromium. Installed with apt-get when we are root on Debian/Ubuntu; otherwise the
// caller gets one line saying what to install.
// usage: node scripts/system-deps.mjs [--softhsm] [--chromium]
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

export const DEFAULT_PKCS11_MODULE = "/usr/lib/softhsm/libsofthsm2.so";

const PACKAGES = {
  softhsm2: { present: () => existsSync(DEFAULT_PKCS11_MODULE) && onPath("softhsm2-util"), why: "the default SoftHSM2 keystore" },
  chromium: { present: () => existsSync("/usr/bin/chromium"), why: "the browser tests" },
};

export class SystemDepsError extends Error {}

function onPath(cmd) {
  return (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(`${dir}/${cmd}`));
}

function canApt() {
  return process.getuid?.() === 0 && existsSync("/etc/debian_version") && onPath("apt-get");
}

/** True when the environment asks for the SoftHSM2 keystore at its default Debian path. */
export function needsSoftHsm(env = process.env) {
  const keystore = env.TALON_KEYSTORE || "pkcs11";
  const module = env.TALON_PKCS11_MODULE || DEFAULT_PKCS11_MODULE;
  return keystore === "pkcs11" && module === DEFAULT_PKCS11_MODULE;
}

/**
 * Installs the missing ones among `names` (keys of PACKAGES). Throws SystemDepsError with one line when
 * they are missing and cannot be installed here.
 */
export function ensureSystemPackages(names, { log = (m) => console.error(m), hint = "" } = {}) {
  const missing = names.filter((n) => !PACKAGES[n].present());
  if (missing.length === 0) return [];
  if (!canApt()) {
    const why = missing.map((n) => `${n} (${PACKAGES[n].why})`).join(", ");
    throw new SystemDepsError(`Missing system package: ${why}. Install it, e.g. sudo apt-get install -y ${missing.join(" ")}${hint}`);
  }
  log(`Installing ${missing.join(", ")} with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    execFileSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"], env });
    execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { stdio: ["ignore", "ignore", "inherit"], env });
  } catch {
    throw new SystemDepsError(`apt-get install ${missing.join(" ")} failed (see above)`);
  }
  const still = missing.filter((n) => !PACKAGES[n].present());
  if (still.length) throw new SystemDepsError(`apt-get ran but ${still.join(", ")} is still missing`);
  return missing;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const wanted = ["softhsm2", "chromium"].filter((n) => process.argv.includes(n === "softhsm2" ? "--softhsm" : `--${n}`));
  try {
    ensureSystemPackages(wanted.length ? wanted : ["softhsm2"]);
  } catch (e) {
    if (!(e instanceof SystemDepsError)) throw e;
    console.error(e.message);
    process.exit(1);
  }
}
