import type { TalonClient } from "../../lib/sdk";
import { CliError, unwrap } from "./io";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A vault named by id or by its (unique per org) name. */
export async function resolveVault(client: TalonClient, ref: string): Promise<string> {
  if (UUID.test(ref)) return ref;
  const { vaults } = unwrap(await client.vaults.list());
  const match = vaults.find((v) => v.name === ref);
  if (!match) throw new CliError(`no vault named "${ref}"`);
  return match.id;
}
