/**
 * `npm run x402:settlement-key [-- --show hsm:<key id>]`: generates the secp256k1 key Talon settles
 * x402 payments with, inside the HSM (non-extractable, like agents' signing keys), and prints the
 * line for the environment and the address to fund with gas. `--show` prints the address of an
 * existing key. Reads the same environment as the server (TALON_DATA_DIR, TALON_PKCS11_*).
 */
import { parseArgs } from "node:util";
import { getAddress, toHex } from "viem";
import { publicKeyToAddress } from "viem/accounts";
import { ConfigError, loadConfig } from "../server/config";
import { openKeystore } from "../server/keystore";
import { KeystoreFatalError } from "../server/keystore/types";

const USAGE = "usage: npm run x402:settlement-key [-- --show hsm:<key id>]";

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { show: { type: "string" }, help: { type: "boolean", short: "h", default: false } } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.show !== undefined && !/^hsm:[0-9a-f]{32}$/.test(values.show)) {
    console.error("--show takes hsm:<key id> (32 hex digits)");
    return 2;
  }
  const keystore = await openKeystore(loadConfig());
  try {
    const keys = keystore.secp256k1;
    if (!keys) {
      console.error("x402 settlement keys live in the HSM: this needs TALON_KEYSTORE=pkcs11");
      return 1;
    }
    if (values.show) {
      const pub = await keys.publicKey(values.show.slice(4));
      if (!pub) {
        console.error(`the token holds no key ${values.show}`);
        return 1;
      }
      console.log(`address: ${getAddress(publicKeyToAddress(toHex(pub)))}`);
      return 0;
    }
    const { keyRef, publicKey } = await keys.generate();
    console.log(`TALON_X402_SETTLEMENT_KEY=hsm:${keyRef}`);
    console.log(`address: ${getAddress(publicKeyToAddress(toHex(publicKey)))} (fund it with the network's native currency for gas)`);
    return 0;
  } finally {
    await keystore.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    const line = e instanceof KeystoreFatalError || e instanceof ConfigError ? e.message : e instanceof Error ? `${e.name}: ${e.message.split("\n")[0]}` : "unknown error";
    console.error(`x402:settlement-key failed: ${line}`);
    process.exit(1);
  },
);
