import { csv, int, parse, positionals } from "../args";
import { authedSession, group } from "../command";
import { out, printJson, printTable, unwrap } from "../io";

export const agents = group("agents", "Register agents and rotate their keys", {
  create: {
    usage: "create NAME [--description TEXT] [--vault-ids ID,…] [--token-ttl SECONDS] [--scopes PATTERN,…]",
    summary: "Register an api_key agent; prints its id and its key (shown only once)",
    async run(argv) {
      const { values, positionals: rest } = parse(argv, {
        description: { type: "string" },
        "vault-ids": { type: "string" },
        "token-ttl": { type: "string" },
        scopes: { type: "string" },
      });
      const [name] = positionals(rest, ["NAME"]);
      const created = unwrap(
        await authedSession(values.url).client.agents.create({
          name: name!,
          description: values.description,
          vault_ids: csv(values["vault-ids"]),
          token_ttl_seconds: int("token-ttl", values["token-ttl"]),
          scopes: csv(values.scopes),
        }),
      );
      if (values.json) return void printJson(created);
      out(`Agent ID: ${created.agent.id}`);
      if (created.api_key) out(`API key (shown only now): ${created.api_key}`);
    },
  },
  list: {
    usage: "list",
    summary: "List the organisation's agents",
    async run(argv) {
      const { values, positionals: rest } = parse(argv, {});
      positionals(rest, []);
      const data = unwrap(await authedSession(values.url).client.agents.list());
      if (values.json) return void printJson(data);
      printTable(["ID", "NAME", "ACTIVE", "VAULTS", "LAST ACTIVE"], data.agents.map((a) => [a.id, a.name, a.is_active ? "yes" : "no", a.vault_ids.length ? a.vault_ids.join(",") : "any", a.last_active_at ?? "-"]));
    },
  },
  "rotate-key": {
    usage: "rotate-key AGENT_ID",
    summary: "Issue a new API key; the old one stops working at once",
    async run(argv) {
      const { values, positionals: rest } = parse(argv, {});
      const [id] = positionals(rest, ["AGENT_ID"]);
      const r = unwrap(await authedSession(values.url).client.agents.rotateKey(id!));
      if (values.json) printJson(r);
      else out(`API key (shown only now): ${r.api_key}`);
    },
  },
});
