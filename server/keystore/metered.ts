import type { KeystoreOperation, Metrics } from "../metrics";
import type { Secp256k1Keys } from "./secp256k1";
import type { Keystore } from "./types";

const KEYSTORE_OPERATIONS: Readonly<Record<string, KeystoreOperation>> = {
  wrap: "wrap",
  unwrap: "unwrap",
  sign: "sign",
  signingJwk: "signing_jwk",
  selfTest: "self_test",
  currentMasterKeyVersion: "master_key_versions",
  masterKeyVersions: "master_key_versions",
  ensureMasterKey: "ensure_master_key",
  destroyMasterKey: "destroy_master_key",
};

const SECP256K1_OPERATIONS: Readonly<Record<string, KeystoreOperation>> = {
  generate: "secp256k1_generate",
  publicKey: "secp256k1_public_key",
  sign: "secp256k1_sign",
  destroy: "secp256k1_destroy",
};

type AsyncFn = (...args: unknown[]) => Promise<unknown>;

/**
 * The keystore as the rest of Talon sees it: every call into the provider (HSM or local) is counted
 * and timed here, in one place. A proxy rather than a delegating class, so a method added to the
 * provider later still works (untimed until listed above); methods run bound to the provider itself.
 */
function metered<T extends object>(target: T, operations: Readonly<Record<string, KeystoreOperation>>, provider: string, metrics: Metrics, nested?: (key: string, value: object) => object | undefined): T {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, key) {
      if (cache.has(key)) return cache.get(key);
      const value: unknown = Reflect.get(t, key, t);
      let out: unknown = value;
      if (typeof value === "function") {
        const fn = (value as AsyncFn).bind(t);
        const operation = typeof key === "string" && Object.hasOwn(operations, key) ? operations[key] : undefined;
        out = operation === undefined ? fn : timed(fn, operation, provider, metrics);
      } else if (typeof key === "string" && value !== null && typeof value === "object" && nested) {
        out = nested(key, value) ?? value;
      } else {
        return value; // plain data (provider name) is read live, never cached
      }
      cache.set(key, out);
      return out;
    },
  });
}

function timed(fn: AsyncFn, operation: KeystoreOperation, provider: string, metrics: Metrics): AsyncFn {
  return async (...args) => {
    const started = performance.now();
    try {
      const result = await fn(...args);
      metrics.keystoreOperation(provider, operation, true, (performance.now() - started) / 1000);
      return result;
    } catch (e) {
      metrics.keystoreOperation(provider, operation, false, (performance.now() - started) / 1000);
      throw e;
    }
  };
}

export function meterKeystore(keystore: Keystore, metrics: Metrics): Keystore {
  const provider = keystore.provider;
  return metered(keystore, KEYSTORE_OPERATIONS, provider, metrics, (key, value) =>
    key === "secp256k1" ? metered(value as Secp256k1Keys, SECP256K1_OPERATIONS, provider, metrics) : undefined,
  );
}
