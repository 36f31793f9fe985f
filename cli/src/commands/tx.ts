import { int, parse, positionals } from "../args";
import { authedSession, group } from "../command";
import { CliError, EXIT_USAGE, out, printJson, printTable, unwrap } from "../io";

/** The agent whose proxy is used: --agent, else the agent this CLI is signed in as (ONECLAW_AGENT_ID). */
function agentOf(flag: string | undefined): string {
  const id = flag ?? process.env.ONECLAW_AGENT_ID;
  if (!id) throw new CliError("name the agent with --agent AGENT_ID (or sign in as the agent with ONECLAW_AGENT_ID + ONECLAW_AGENT_API_KEY)", EXIT_USAGE);
  return id;
}

const txOptions = {
  agent: { type: "string" },
  to: { type: "string" },
  value: { type: "string" },
  chain: { type: "string" },
  data: { type: "string" },
  "signing-key-path": { type: "string" },
  "gas-limit": { type: "string" },
} as const;

function required(values: Record<string, unknown>, names: string[]) {
  const missing = names.filter((n) => typeof values[n] !== "string");
  if (missing.length) throw new CliError(`missing ${missing.map((n) => `--${n}`).join(", ")}`, EXIT_USAGE);
}

function base(values: { [K in keyof typeof txOptions]?: string }) {
  return {
    to: values.to!,
    value: values.value!,
    chain: values.chain!,
    data: values.data,
    signing_key_path: values["signing-key-path"],
    gas_limit: int("gas-limit", values["gas-limit"]),
  };
}

export const tx = group("tx", "Simulate and submit EVM transactions through an agent's crypto proxy (keys stay in Talon)", {
  simulate: {
    usage: "simulate --to ADDRESS --value ETH --chain CHAIN [--data HEX] [--signing-key-path PATH] [--gas-limit N] [--agent AGENT_ID]",
    summary: "Run a transaction on the chain's node without signing: status, gas, balance changes, revert reason",
    async run(argv) {
      const { values, positionals: rest } = parse(argv, txOptions);
      positionals(rest, []);
      required(values, ["to", "value", "chain"]);
      const sim = unwrap(await authedSession(values.url).client.agents.simulateTransaction(agentOf(values.agent), base(values)));
      if (values.json) return void printJson(sim);
      out(`Status: ${sim.status}${sim.revert_reason ? ` (${sim.revert_reason})` : ""}${sim.error ? ` (${sim.error})` : ""}`);
      if (sim.gas_used) out(`Gas: ${sim.gas_used}`);
      if (sim.balance_changes.length) printTable(["ADDRESS", "TOKEN", "CHANGE"], sim.balance_changes.map((b) => [b.address, b.token, b.change]));
      return sim.status === "success" ? 0 : 1;
    },
  },
  submit: {
    usage:
      "submit --to ADDRESS --value ETH --chain CHAIN [--data HEX] [--signing-key-path PATH] [--gas-limit N] [--nonce N] [--gas-price WEI | --max-fee-per-gas WEI [--max-priority-fee-per-gas WEI]] [--no-simulate] [--idempotency-key KEY] [--agent AGENT_ID]",
    summary: "Sign and broadcast a transaction (guardrails and simulation first)",
    async run(argv) {
      const { values, positionals: rest } = parse(argv, {
        ...txOptions,
        nonce: { type: "string" },
        "gas-price": { type: "string" },
        "max-fee-per-gas": { type: "string" },
        "max-priority-fee-per-gas": { type: "string" },
        "no-simulate": { type: "boolean" },
        "idempotency-key": { type: "string" },
      });
      positionals(rest, []);
      required(values, ["to", "value", "chain"]);
      const t = unwrap(
        await authedSession(values.url).client.agents.submitTransaction(
          agentOf(values.agent),
          {
            ...base(values),
            nonce: int("nonce", values.nonce),
            gas_price: values["gas-price"],
            max_fee_per_gas: values["max-fee-per-gas"],
            max_priority_fee_per_gas: values["max-priority-fee-per-gas"],
            simulate_first: values["no-simulate"] ? false : undefined,
          },
          { idempotencyKey: values["idempotency-key"] },
        ),
      );
      if (values.json) return void printJson(t);
      out(`Transaction: ${t.id}`);
      out(`Status: ${t.status}${t.error_message ? ` (${t.error_message})` : ""}`);
      if (t.tx_hash) out(`Hash: ${t.tx_hash}${t.explorer_url ? ` ${t.explorer_url}` : ""}`);
      return t.status === "failed" ? 1 : 0;
    },
  },
  list: {
    usage: "list [--agent AGENT_ID] [--limit N] [--offset N]",
    summary: "The agent's transactions, newest first",
    async run(argv) {
      const { values, positionals: rest } = parse(argv, { agent: { type: "string" }, limit: { type: "string" }, offset: { type: "string" } });
      positionals(rest, []);
      const data = unwrap(await authedSession(values.url).client.agents.listTransactions(agentOf(values.agent), { limit: int("limit", values.limit), offset: int("offset", values.offset) }));
      if (values.json) return void printJson(data);
      printTable(
        ["ID", "CHAIN", "STATUS", "TO", "VALUE (WEI)", "HASH", "CREATED"],
        data.transactions.map((t) => [t.id, t.chain, t.status, t.to, t.value_wei, t.tx_hash ?? "-", t.created_at]),
      );
    },
  },
});
