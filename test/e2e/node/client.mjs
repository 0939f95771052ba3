#!/usr/bin/env node
// test/e2e/node/client.mjs — drives one scenario with the official MCP
// TypeScript SDK client (@modelcontextprotocol/sdk 1.32.2) against a server
// (Gatehouse, or @modelcontextprotocol/server-everything directly) and prints
// ONE JSON object to stdout describing what it observed.
//
//   node client.mjs --url URL --transport http|sse [--token T] --scenario NAME
//                   [--header 'Name: value']... [--timeout MS] [--message TEXT]
//
// Exit codes: 0 scenario passed, 1 scenario failed (JSON has ok:false and
// error), 2 usage error. Diagnostics go to stderr.
//
// The SDK is loaded from the tools install (see README.md): the first of
// $GATEHOUSE_NODE_MODULES, $GATEHOUSE_TOOLS/npm/node_modules, and
// <repo>/.tools/npm/node_modules that contains it. (NODE_PATH does not apply
// to ES modules, hence the explicit lookup.)

import { findNodeModules, sdkImporter } from "./sdk.mjs";

const SCENARIOS = [
  "list-tools",
  "call-echo",
  "call-structured",
  "resource-links",
  "progress",
  "read-resource",
  "get-prompt",
  "sampling",
  "elicitation",
  "call-tool",
];

// Canned answers of the client-side handlers.
const CANNED_SAMPLING_TEXT = "canned sampling reply from gatehouse e2e";
const CANNED_SAMPLING_MODEL = "gatehouse-e2e-model";
const CANNED_ELICITATION = {
  name: "Gatehouse E2E",
  check: true,
  email: "e2e@example.com",
  integer: 7,
};

function usage(msg) {
  if (msg) process.stderr.write(`client.mjs: ${msg}\n`);
  process.stderr.write(
    "usage: node client.mjs --url URL --transport http|sse [--token T] --scenario NAME\n" +
      "                       [--header 'Name: value']... [--timeout MS] [--message TEXT]\n" +
      `scenarios: ${SCENARIOS.join(", ")}\n`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = { transport: "http", headers: {}, timeout: 30000, message: "hello from gatehouse e2e" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf("=");
    const key = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    const val = () => {
      if (a.startsWith("--") && eq > 0) return a.slice(eq + 1);
      if (i + 1 >= argv.length) usage(`${key} needs a value`);
      return argv[++i];
    };
    switch (key) {
      case "--url": o.url = val(); break;
      case "--transport": o.transport = val(); break;
      case "--token": o.token = val(); break;
      case "--scenario": o.scenario = val(); break;
      case "--timeout": o.timeout = Number(val()); break;
      case "--message": o.message = val(); break;
      case "--tool": o.tool = val(); break;
      case "--args": o.args = JSON.parse(val()); break;
      case "--header": {
        const h = val();
        const c = h.indexOf(":");
        if (c <= 0) usage(`bad --header ${JSON.stringify(h)} (want 'Name: value')`);
        o.headers[h.slice(0, c).trim()] = h.slice(c + 1).trim();
        break;
      }
      case "-h": case "--help": usage();
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!o.url) usage("--url is required");
  if (!o.scenario) usage("--scenario is required");
  if (!SCENARIOS.includes(o.scenario)) usage(`unknown scenario ${o.scenario}`);
  if (!["http", "sse"].includes(o.transport)) usage(`--transport must be http or sse`);
  if (!Number.isFinite(o.timeout) || o.timeout <= 0) usage("--timeout must be a positive number of ms");
  return o;
}

async function loadSdk() {
  const nm = findNodeModules();
  const sdk = sdkImporter(nm);
  const [client, http, sse, types] = await Promise.all([
    sdk("client/index.js"),
    sdk("client/streamableHttp.js"),
    sdk("client/sse.js"),
    sdk("types.js"),
  ]);
  return {
    nodeModules: nm,
    Client: client.Client,
    StreamableHTTPClientTransport: http.StreamableHTTPClientTransport,
    SSEClientTransport: sse.SSEClientTransport,
    CreateMessageRequestSchema: types.CreateMessageRequestSchema,
    ElicitRequestSchema: types.ElicitRequestSchema,
    LoggingMessageNotificationSchema: types.LoggingMessageNotificationSchema,
  };
}

class ScenarioError extends Error {}
function check(cond, msg) {
  if (!cond) throw new ScenarioError(msg);
}
const texts = (result) => (result?.content ?? []).filter((c) => c.type === "text").map((c) => c.text);

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const out = { ok: false, scenario: opts.scenario, transport: opts.transport, url: opts.url };
  let client;
  const hardTimer = setTimeout(() => {
    out.error = `timed out after ${opts.timeout} ms`;
    finish(out, 1);
  }, opts.timeout + 5000);
  hardTimer.unref();
  try {
    const S = await loadSdk();
    const headers = { ...opts.headers };
    if (opts.token) headers["Authorization"] = `Bearer ${opts.token}`;
    const url = new URL(opts.url);
    const transport =
      opts.transport === "http"
        ? new S.StreamableHTTPClientTransport(url, { requestInit: { headers } })
        : new S.SSEClientTransport(url, { requestInit: { headers } });

    // Sampling and elicitation are always declared, so server-everything
    // registers its conditional tools (trigger-sampling-request, ...).
    client = new S.Client(
      { name: "gatehouse-e2e-node", version: "0.1.0" },
      { capabilities: { sampling: {}, elicitation: { form: {} } } },
    );
    const seen = { samplingRequests: [], elicitationRequests: [], logMessages: 0 };
    client.setRequestHandler(S.CreateMessageRequestSchema, async (req) => {
      seen.samplingRequests.push(req.params);
      return {
        role: "assistant",
        content: { type: "text", text: CANNED_SAMPLING_TEXT },
        model: CANNED_SAMPLING_MODEL,
        stopReason: "endTurn",
      };
    });
    client.setRequestHandler(S.ElicitRequestSchema, async (req) => {
      seen.elicitationRequests.push(req.params);
      return { action: "accept", content: { ...CANNED_ELICITATION } };
    });
    client.setNotificationHandler(S.LoggingMessageNotificationSchema, () => {
      seen.logMessages++;
    });

    const reqOpts = { timeout: opts.timeout };
    await client.connect(transport, reqOpts);
    // Count progress notifications as they arrive on the wire: the SDK runs
    // notification handlers in a microtask but drops the request's progress
    // handler synchronously when the response arrives, so an onprogress
    // callback can miss the last notification when it shares a chunk with the
    // response (seen over SSE).
    seen.wireProgress = [];
    const origOnMessage = transport.onmessage;
    transport.onmessage = (msg, extra) => {
      if (msg && msg.method === "notifications/progress") seen.wireProgress.push(msg.params);
      return origOnMessage?.(msg, extra);
    };
    out.serverInfo = client.getServerVersion() ?? null;
    out.protocolVersion = transport.protocolVersion ?? null;
    out.sessionId = transport.sessionId ?? null;

    out.result = await SCENARIO_FUNCS[opts.scenario](client, opts, seen, reqOpts);
    out.ok = true;
  } catch (err) {
    out.ok = false;
    out.error = err instanceof Error ? err.message : String(err);
    if (err && typeof err === "object" && "code" in err && err.code !== undefined) out.errorCode = err.code;
    if (!(err instanceof ScenarioError) && err?.stack) process.stderr.write(`${err.stack}\n`);
  }
  if (client) {
    try {
      // Ends the session (DELETE for Streamable HTTP) before closing.
      await client.transport?.terminateSession?.();
    } catch {
      /* server may not support session termination */
    }
    try {
      await client.close();
    } catch {
      /* ignore */
    }
  }
  finish(out, out.ok ? 0 : 1);
}

let finished = false;
function finish(out, code) {
  if (finished) return;
  finished = true;
  process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(code));
}

async function listAllTools(client, reqOpts) {
  const tools = [];
  let cursor;
  let pages = 0;
  do {
    const res = await client.listTools(cursor ? { cursor } : {}, reqOpts);
    pages++;
    tools.push(...res.tools);
    cursor = res.nextCursor;
    check(pages <= 100, "more than 100 pages of tools/list; pagination loop?");
  } while (cursor);
  return { tools, pages };
}

async function findTool(client, reqOpts, name) {
  const { tools } = await listAllTools(client, reqOpts);
  const t = tools.find((x) => x.name === name);
  check(t, `tool ${name} not listed (tools: ${tools.map((x) => x.name).join(", ")})`);
  return t;
}

const SCENARIO_FUNCS = {
  // Any tool with --tool NAME --args JSON: reports the result, or the
  // JSON-RPC error the call ended with (the scenario itself passes).
  "call-tool": async (client, o, _s, reqOpts) => {
    check(o.tool, "call-tool needs --tool");
    try {
      const res = await client.callTool({ name: o.tool, arguments: o.args ?? {} }, undefined, reqOpts);
      return { text: texts(res).join("\n"), isError: !!res.isError, content: res.content };
    } catch (e) {
      return { error: { code: e.code, message: e.message, data: e.data } };
    }
  },

  // All tool names, following nextCursor.
  "list-tools": async (client, _o, _s, reqOpts) => {
    const { tools, pages } = await listAllTools(client, reqOpts);
    check(tools.length > 0, "tools/list returned no tools");
    return { count: tools.length, pages, tools: tools.map((t) => t.name) };
  },

  // echo {message} -> text "Echo: <message>".
  "call-echo": async (client, o, _s, reqOpts) => {
    const res = await client.callTool({ name: "echo", arguments: { message: o.message } }, undefined, reqOpts);
    const text = texts(res).join("\n");
    check(!res.isError, `echo returned isError: ${text}`);
    check(text === `Echo: ${o.message}`, `unexpected echo text ${JSON.stringify(text)}`);
    return { text, content: res.content };
  },

  // get-structured-content {location} -> structuredContent {temperature, conditions, humidity}.
  // tools/list first so the SDK validates structuredContent against outputSchema.
  "call-structured": async (client, _o, _s, reqOpts) => {
    const tool = await findTool(client, reqOpts, "get-structured-content");
    const res = await client.callTool(
      { name: "get-structured-content", arguments: { location: "New York" } },
      undefined,
      reqOpts,
    );
    check(!res.isError, `get-structured-content returned isError: ${texts(res).join("\n")}`);
    check(res.structuredContent && typeof res.structuredContent === "object", "no structuredContent in result");
    check(typeof res.structuredContent.temperature === "number", "structuredContent.temperature is not a number");
    return { hasOutputSchema: !!tool.outputSchema, structuredContent: res.structuredContent, content: res.content };
  },

  // get-resource-links {count: 3} -> 1 text block + 3 resource_link blocks.
  "resource-links": async (client, _o, _s, reqOpts) => {
    const res = await client.callTool({ name: "get-resource-links", arguments: { count: 3 } }, undefined, reqOpts);
    check(!res.isError, `get-resource-links returned isError: ${texts(res).join("\n")}`);
    const links = (res.content ?? []).filter((c) => c.type === "resource_link");
    check(links.length === 3, `expected 3 resource_link blocks, got ${links.length}`);
    return { count: links.length, links };
  },

  // trigger-long-running-operation {duration: 2, steps: 4} with a progress token
  // (set by the SDK because onprogress is given) -> 4 notifications/progress.
  // progressNotifications counts notifications/progress on the wire;
  // progressCallbacks counts the SDK's onprogress calls (may be one short).
  progress: async (client, _o, seen, reqOpts) => {
    const steps = 4;
    const callbacks = [];
    const res = await client.callTool(
      { name: "trigger-long-running-operation", arguments: { duration: 2, steps } },
      undefined,
      { ...reqOpts, onprogress: (p) => callbacks.push(p), resetTimeoutOnProgress: true },
    );
    check(!res.isError, `trigger-long-running-operation returned isError: ${texts(res).join("\n")}`);
    const wire = seen.wireProgress;
    check(wire.length === steps, `expected ${steps} progress notifications, got ${wire.length}`);
    const tokens = new Set(wire.map((p) => p.progressToken));
    check(tokens.size === 1, `progress notifications carry ${tokens.size} different tokens`);
    check(
      wire.every((p, i) => p.progress === i + 1 && p.total === steps),
      `unexpected progress values ${JSON.stringify(wire.map((p) => [p.progress, p.total]))}`,
    );
    return {
      progressNotifications: wire.length,
      progressCallbacks: callbacks.length,
      progress: wire,
      text: texts(res).join("\n"),
    };
  },

  // resources/list, then resources/read of the first listed resource.
  "read-resource": async (client, _o, _s, reqOpts) => {
    const list = await client.listResources({}, reqOpts);
    check(list.resources.length > 0, "resources/list returned no resources");
    const first = list.resources[0];
    const res = await client.readResource({ uri: first.uri }, reqOpts);
    check(res.contents.length > 0, `resources/read ${first.uri} returned no contents`);
    const contents = res.contents.map((c) => ({
      uri: c.uri,
      mimeType: c.mimeType ?? null,
      textLength: typeof c.text === "string" ? c.text.length : null,
      blobLength: typeof c.blob === "string" ? c.blob.length : null,
      textStart: typeof c.text === "string" ? c.text.slice(0, 80) : null,
    }));
    return {
      listed: list.resources.length,
      resources: list.resources.map((r) => r.uri),
      read: first.uri,
      contents,
    };
  },

  // prompts/list, then prompts/get simple-prompt.
  "get-prompt": async (client, _o, _s, reqOpts) => {
    const list = await client.listPrompts({}, reqOpts);
    const names = list.prompts.map((p) => p.name);
    check(names.includes("simple-prompt"), `simple-prompt not listed (prompts: ${names.join(", ")})`);
    const res = await client.getPrompt({ name: "simple-prompt" }, reqOpts);
    check(res.messages.length > 0, "prompts/get returned no messages");
    return { prompts: names, name: "simple-prompt", messages: res.messages };
  },

  // trigger-sampling-request {prompt, maxTokens} -> server sends
  // sampling/createMessage; our handler answers CANNED_SAMPLING_TEXT, which
  // the tool echoes back in its text result.
  sampling: async (client, _o, seen, reqOpts) => {
    await findTool(client, reqOpts, "trigger-sampling-request");
    const res = await client.callTool(
      { name: "trigger-sampling-request", arguments: { prompt: "Say hello to the gateway", maxTokens: 50 } },
      undefined,
      reqOpts,
    );
    const text = texts(res).join("\n");
    check(!res.isError, `trigger-sampling-request returned isError: ${text}`);
    check(seen.samplingRequests.length === 1, `expected 1 sampling request, got ${seen.samplingRequests.length}`);
    check(text.includes(CANNED_SAMPLING_TEXT), "tool result does not contain the canned sampling reply");
    return { samplingRequests: seen.samplingRequests.length, request: seen.samplingRequests[0], text };
  },

  // trigger-elicitation-request {} -> server sends elicitation/create (form);
  // our handler accepts with CANNED_ELICITATION, which the tool reports back.
  elicitation: async (client, _o, seen, reqOpts) => {
    await findTool(client, reqOpts, "trigger-elicitation-request");
    const res = await client.callTool({ name: "trigger-elicitation-request", arguments: {} }, undefined, reqOpts);
    const text = texts(res).join("\n");
    check(!res.isError, `trigger-elicitation-request returned isError: ${text}`);
    check(seen.elicitationRequests.length === 1, `expected 1 elicitation request, got ${seen.elicitationRequests.length}`);
    check(text.includes(`- Name: ${CANNED_ELICITATION.name}`), "tool result does not contain the elicited name");
    const req = seen.elicitationRequests[0];
    return {
      elicitationRequests: seen.elicitationRequests.length,
      message: req.message,
      requestedFields: Object.keys(req.requestedSchema?.properties ?? {}),
      accepted: CANNED_ELICITATION,
      text,
    };
  },
};

await main();
