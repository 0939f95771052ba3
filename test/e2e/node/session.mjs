#!/usr/bin/env node
// test/e2e/node/session.mjs — one long-lived session of the official MCP
// TypeScript SDK client (@modelcontextprotocol/sdk), driven line by line:
// a Go test writes commands on stdin and reads answers and events on
// stdout, so it can act (admin API calls, policy changes) while the
// session stays open and calls are in flight.
//
//   node session.mjs --url URL [--token T] [--elicitation none|approve|decline] [--timeout MS]
//
// stdin, one JSON object a line (commands run concurrently; answers carry
// the command's id):
//   {"id":"1","op":"list-tools"}          -> {"id":"1","result":{"tools":[names]}}
//   {"id":"2","op":"list-prompts"}        -> {"id":"2","result":{"prompts":[names]}}
//   {"id":"3","op":"list-resources"}      -> {"id":"3","result":{"resources":[uris]}}
//   {"id":"4","op":"call-tool","tool":"echo","args":{...}[,"timeout":MS]}
//       -> {"id":"4","result":{"text","isError","content"}}
//       ("timeout" overrides --timeout for this call: when it passes, the
//       SDK sends notifications/cancelled and answers -32001)
//   any failure -> {"id":..,"error":{"code","message","data"}} (message
//       without the SDK's "MCP error <code>: " prefix)
// stdout events:
//   {"event":"ready","sessionId","protocolVersion","serverInfo","capabilities"}
//   {"event":"elicitation","params":{...}}  (an elicitation/create received)
//   {"event":"fatal","error"}               (connect failed; the script exits 1)
// EOF on stdin ends the session (DELETE) and exits 0.
//
// --elicitation none (default) declares no elicitation capability;
// approve/decline declare `elicitation: {}` and answer every
// elicitation/create with {action:"accept",content:{approve:true}} or
// {action:"decline"}.

import { createInterface } from "node:readline";

import { findNodeModules, sdkImporter } from "./sdk.mjs";

function parseArgs(argv) {
  const o = { elicitation: "none", timeout: 90000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case "--url": o.url = val(); break;
      case "--token": o.token = val(); break;
      case "--elicitation": o.elicitation = val(); break;
      case "--timeout": o.timeout = Number(val()); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!o.url) usage("--url is required");
  if (!["none", "approve", "decline"].includes(o.elicitation)) usage("--elicitation must be none, approve or decline");
  if (!Number.isFinite(o.timeout) || o.timeout <= 0) usage("--timeout must be a positive number of ms");
  return o;
}

function usage(msg) {
  process.stderr.write(`session.mjs: ${msg}\n`);
  process.stderr.write("usage: node session.mjs --url URL [--token T] [--elicitation none|approve|decline] [--timeout MS]\n");
  process.exit(2);
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// errorOf reports an SDK error as the JSON-RPC error the server sent.
function errorOf(e) {
  let message = e instanceof Error ? e.message : String(e);
  const prefix = `MCP error ${e?.code}: `;
  if (e?.code !== undefined && message.startsWith(prefix)) message = message.slice(prefix.length);
  return { code: e?.code ?? null, message, data: e?.data ?? null };
}

const texts = (result) => (result?.content ?? []).filter((c) => c.type === "text").map((c) => c.text);

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const nm = findNodeModules();
  const sdk = sdkImporter(nm);
  const [{ Client }, { StreamableHTTPClientTransport }, types] = await Promise.all([
    sdk("client/index.js"),
    sdk("client/streamableHttp.js"),
    sdk("types.js"),
  ]);

  const headers = {};
  if (o.token) headers["Authorization"] = `Bearer ${o.token}`;
  const transport = new StreamableHTTPClientTransport(new URL(o.url), { requestInit: { headers } });
  const capabilities = o.elicitation === "none" ? {} : { elicitation: {} };
  const client = new Client({ name: "gatehouse-e2e-session", version: "0.1.0" }, { capabilities });
  if (o.elicitation !== "none") {
    client.setRequestHandler(types.ElicitRequestSchema, async (req) => {
      emit({ event: "elicitation", params: req.params });
      return o.elicitation === "approve" ? { action: "accept", content: { approve: true } } : { action: "decline" };
    });
  }
  const reqOpts = { timeout: o.timeout };
  try {
    await client.connect(transport, reqOpts);
  } catch (e) {
    emit({ event: "fatal", error: errorOf(e) });
    process.exit(1);
  }
  emit({
    event: "ready",
    sessionId: transport.sessionId ?? null,
    protocolVersion: transport.protocolVersion ?? null,
    serverInfo: client.getServerVersion() ?? null,
    capabilities,
  });

  const ops = {
    "list-tools": async () => ({ tools: (await client.listTools({}, reqOpts)).tools.map((t) => t.name) }),
    "list-prompts": async () => ({ prompts: (await client.listPrompts({}, reqOpts)).prompts.map((p) => p.name) }),
    "list-resources": async () => ({ resources: (await client.listResources({}, reqOpts)).resources.map((r) => r.uri) }),
    "call-tool": async (cmd) => {
      const opts = cmd.timeout ? { ...reqOpts, timeout: cmd.timeout } : reqOpts;
      const res = await client.callTool({ name: cmd.tool, arguments: cmd.args ?? {} }, undefined, opts);
      return { text: texts(res).join("\n"), isError: !!res.isError, content: res.content };
    },
  };

  const inflight = new Set();
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch (e) {
      emit({ id: null, error: { code: null, message: `bad command ${JSON.stringify(line)}: ${e.message}`, data: null } });
      continue;
    }
    const op = ops[cmd.op];
    if (!op) {
      emit({ id: cmd.id, error: { code: null, message: `unknown op ${JSON.stringify(cmd.op)}`, data: null } });
      continue;
    }
    const p = op(cmd).then(
      (result) => emit({ id: cmd.id, result }),
      (e) => emit({ id: cmd.id, error: errorOf(e) }),
    );
    inflight.add(p);
    p.finally(() => inflight.delete(p));
  }
  await Promise.allSettled([...inflight]);
  try {
    await transport.terminateSession();
  } catch {
    /* the gateway may already have ended it */
  }
  await client.close().catch(() => {});
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  emit({ event: "fatal", error: errorOf(e) });
  process.exit(1);
});
