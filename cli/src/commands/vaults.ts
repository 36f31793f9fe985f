import { parse, positionals } from "../args";
import { authedSession, group } from "../command";
import { out, printJson, printTable, unwrap } from "../io";
import { resolveVault } from "../vault-ref";

export const vaults = group("vaults", "List, create and delete vaults", {
  list: {
    usage: "list",
    summary: "List the vaults you can see",
    async run(argv) {
      const { values, positionals: rest } = parse(argv, {});
      positionals(rest, []);
      const data = unwrap(await authedSession(values.url).client.vaults.list());
      if (values.json) return void printJson(data);
      printTable(["ID", "NAME", "DESCRIPTION"], data.vaults.map((v) => [v.id, v.name, v.description]));
    },
  },
  create: {
    usage: "create NAME [--description TEXT]",
    summary: "Create a vault; prints its id",
    async run(argv) {
      const { values, positionals: rest } = parse(argv, { description: { type: "string" } });
      const [name] = positionals(rest, ["NAME"]);
      const v = unwrap(await authedSession(values.url).client.vaults.create({ name: name!, description: values.description }));
      if (values.json) printJson(v);
      else out(v.id);
    },
  },
  rm: {
    usage: "rm VAULT",
    summary: "Delete a vault (by id or name) with all its secrets",
    async run(argv) {
      const { values, positionals: rest } = parse(argv, {});
      const [ref] = positionals(rest, ["VAULT"]);
      const { client } = authedSession(values.url);
      const id = await resolveVault(client, ref!);
      unwrap(await client.vaults.delete(id));
      if (values.json) printJson({ deleted: id });
    },
  },
});
