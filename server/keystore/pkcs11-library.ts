import { readFileSync, realpathSync } from "node:fs";
import pkcs11js from "pkcs11js";
import { KeystoreFatalError } from "./types";

/**
 * The loaded PKCS#11 module. Cryptoki state is process-wide, so there is one initialised library per
 * process (kept on globalThis so that bundled copies of this file share it), counted by its users.
 * It is never finalised while a keystore uses it: C_Finalize would close every other instance's
 * sessions. It is re-initialised only when nobody uses it and a different module or SoftHSM config is
 * asked for (SoftHSM reads SOFTHSM2_CONF at C_Initialize; tests open one token directory after another).
 */
export type Pkcs11 = InstanceType<typeof pkcs11js.PKCS11>;
export type Handle = Buffer;
export { pkcs11js };

/** PKCS#11 3.0 values pkcs11js 2.1.7 does not define. */
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
export const CKM_EDDSA = 0x1057;
export const CKK_EC_EDWARDS = 0x40;
/** Session states (pkcs11js defines none). */
export const CKS_RO_USER_FUNCTIONS = 1;
export const CKS_RW_USER_FUNCTIONS = 3;

export type Pkcs11Config = { module: string; tokenLabel: string; pin?: string; pinFile: string; sessions: number };

type Library = { p11: Pkcs11; id: string; users: number };
const GLOBAL_KEY = Symbol.for("talon.pkcs11.library");
type WithLibrary = typeof globalThis & { [GLOBAL_KEY]?: Library };

export function pkcs11Code(e: unknown): number | undefined {
  return e instanceof pkcs11js.Pkcs11Error ? e.code : undefined;
}

function libraryId(modulePath: string): string {
  let real = modulePath;
  try {
    real = realpathSync(modulePath);
  } catch {
    // load() below reports the missing module with a proper message.
  }
  return `${real}\n${process.env.SOFTHSM2_CONF ?? ""}`;
}

/** Loads and initialises the module (or joins the existing initialisation); call release() when done. */
export function acquireLibrary(modulePath: string): { p11: Pkcs11; release(): void } {
  const g = globalThis as WithLibrary;
  const id = libraryId(modulePath);
  let lib = g[GLOBAL_KEY];
  if (lib && lib.id !== id) {
    if (lib.users > 0) {
      throw new KeystoreFatalError(
        "A different PKCS#11 module or SOFTHSM2_CONF is already in use in this process; one process serves one token",
      );
    }
    try {
      lib.p11.C_Finalize();
      lib.p11.close();
    } catch {
      // Already finalised or unloaded: nothing left to release.
    }
    lib = undefined;
    delete g[GLOBAL_KEY];
  }
  if (!lib) {
    const p11 = new pkcs11js.PKCS11();
    try {
      p11.load(modulePath);
    } catch {
      throw new KeystoreFatalError(`Cannot load the PKCS#11 module ${modulePath}: set TALON_PKCS11_MODULE to the HSM's library`);
    }
    try {
      p11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      if (pkcs11Code(e) !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        throw new KeystoreFatalError(`PKCS#11 module ${modulePath} failed to initialise (${(e as Error).message})`);
      }
    }
    lib = { p11, id, users: 0 };
    g[GLOBAL_KEY] = lib;
  }
  const held = lib;
  held.users++;
  let released = false;
  return {
    p11: held.p11,
    release() {
      if (!released) held.users--;
      released = true;
    },
  };
}

/** The slot holding the initialised token with this label (slot ids change when tokens are added). */
export function findTokenSlot(p11: Pkcs11, label: string): Handle | undefined {
  for (const slot of p11.C_GetSlotList(true)) {
    const info = p11.C_GetTokenInfo(slot);
    if ((info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) !== 0 && info.label.trimEnd() === label) return slot;
  }
  return undefined;
}

/** A wrong PIN is a hard stop: retrying could lock a real HSM's user PIN. */
export const PIN_ERRORS = new Set([
  pkcs11js.CKR_PIN_INCORRECT,
  pkcs11js.CKR_PIN_LOCKED,
  pkcs11js.CKR_PIN_LEN_RANGE,
  pkcs11js.CKR_PIN_EXPIRED,
  pkcs11js.CKR_PIN_INVALID,
]);

/** Errors after which the session itself is gone (HSM restart, token removed, logged out). */
export const SESSION_ERRORS = new Set([
  pkcs11js.CKR_SESSION_HANDLE_INVALID,
  pkcs11js.CKR_SESSION_CLOSED,
  pkcs11js.CKR_USER_NOT_LOGGED_IN,
  pkcs11js.CKR_DEVICE_REMOVED,
  pkcs11js.CKR_TOKEN_NOT_PRESENT,
  pkcs11js.CKR_DEVICE_ERROR,
]);

/** Errors meaning a cached object handle no longer names an object (destroyed, or made by another process). */
export const HANDLE_ERRORS = new Set([pkcs11js.CKR_OBJECT_HANDLE_INVALID, pkcs11js.CKR_KEY_HANDLE_INVALID]);

export function findObjects(p11: Pkcs11, session: Handle, template: pkcs11js.Template): Handle[] {
  p11.C_FindObjectsInit(session, template);
  try {
    const out: Handle[] = [];
    for (;;) {
      const batch = p11.C_FindObjects(session, 64);
      out.push(...batch);
      if (batch.length < 64) return out;
    }
  } finally {
    p11.C_FindObjectsFinal(session);
  }
}

/** From the config, else the PIN file (trimmed); the PIN itself never appears in an error. */
export function readPin(cfg: Pkcs11Config): string {
  if (cfg.pin) return cfg.pin;
  try {
    const pin = readFileSync(cfg.pinFile, "utf8").trim();
    if (pin) return pin;
  } catch {
    // Reported below without the path's contents.
  }
  throw new KeystoreFatalError(`No PKCS#11 PIN: set TALON_PKCS11_PIN or TALON_PKCS11_PIN_FILE (${cfg.pinFile} is missing or empty)`);
}

/** AES-GCM with a 96-bit IV and a 128-bit tag, computed inside the token. */
export const gcm = (iv: Buffer, aad: Buffer) => ({
  mechanism: pkcs11js.CKM_AES_GCM,
  parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv, aad, ivBits: 96, tagBits: 128 },
});

/** The user PIN: a one-line message without the PIN itself when it is refused. */
export function login(p11: Pkcs11, session: Handle, pin: string, tokenLabel: string) {
  try {
    p11.C_Login(session, pkcs11js.CKU_USER, pin);
  } catch (e) {
    const code = pkcs11Code(e);
    if (code === pkcs11js.CKR_USER_ALREADY_LOGGED_IN) return;
    const name = /^CKR_\w+$/.test((e as Error).message) ? (e as Error).message : `code ${code ?? "unknown"}`;
    if (code !== undefined && PIN_ERRORS.has(code)) {
      throw new KeystoreFatalError(
        `PKCS#11 login to token "${tokenLabel}" refused the PIN (${name}); check TALON_PKCS11_PIN or TALON_PKCS11_PIN_FILE (not retried)`,
      );
    }
    throw new KeystoreFatalError(`PKCS#11 login to token "${tokenLabel}" failed (${name})`);
  }
}

/**
 * A small pool of logged-in sessions: PKCS#11 allows one operation at a time per session, and the
 * async pkcs11js calls run on libuv's threads, so each operation in flight holds its own session.
 */
export class SessionPool {
  private free: Handle[] = [];
  private waiters: { resolve(s: Handle): void; reject(e: Error): void }[] = [];
  private closed = false;

  private constructor(
    private readonly p11: Pkcs11,
    private readonly slot: Handle,
    private readonly pin: string,
    private readonly tokenLabel: string,
  ) {}

  static open(p11: Pkcs11, slot: Handle, pin: string, tokenLabel: string, size: number): SessionPool {
    const pool = new SessionPool(p11, slot, pin, tokenLabel);
    try {
      for (let i = 0; i < size; i++) pool.free.push(pool.openSession());
    } catch (e) {
      pool.close();
      throw e;
    }
    return pool;
  }

  private openSession(): Handle {
    const s = this.p11.C_OpenSession(this.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      login(this.p11, s, this.pin, this.tokenLabel);
    } catch (e) {
      this.p11.C_CloseSession(s);
      throw e;
    }
    return s;
  }

  private acquire(): Promise<Handle> {
    if (this.closed) return Promise.reject(new Error("Keystore is closed"));
    const s = this.free.pop();
    if (s) return Promise.resolve(s);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private release(s: Handle) {
    if (this.closed) return this.closeQuietly(s);
    const next = this.waiters.shift();
    if (next) next.resolve(s);
    else this.free.push(s);
  }

  /** Runs fn on a session of its own; a session lost to an HSM restart is replaced and fn retried once. */
  async use<T>(fn: (session: Handle) => T | Promise<T>): Promise<T> {
    let s = await this.acquire();
    try {
      try {
        return await fn(s);
      } catch (e) {
        const code = pkcs11Code(e);
        if (code === undefined || !SESSION_ERRORS.has(code)) throw e;
        const fresh = this.openSession();
        this.closeQuietly(s);
        s = fresh;
        return await fn(s);
      }
    } finally {
      this.release(s);
    }
  }

  private closeQuietly(s: Handle) {
    try {
      this.p11.C_CloseSession(s);
    } catch {
      // The session is already gone.
    }
  }

  /** Closes this pool's sessions only: other keystores in the process keep theirs (and their login). */
  close() {
    this.closed = true;
    for (const s of this.free.splice(0)) this.closeQuietly(s);
    for (const w of this.waiters.splice(0)) w.reject(new Error("Keystore is closed"));
  }
}
