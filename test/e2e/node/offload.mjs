#!/usr/bin/env node
// test/e2e/node/offload.mjs — tool output offloading seen by the official
// MCP TypeScript SDK client (@modelcontextprotocol/sdk 1.32.2) over
// Streamable HTTP. Prints ONE JSON object on stdout (see README.md).
//
//   node offload.mjs --url URL [--token T] --op call|read [--tool NAME]
//                    [--uri URI] [--step BYTES] [--no-read] [--timeout MS]
//
// --op call: tools/call --tool {}, then, when the result links to a
//   gatehouse://offload/ URI, resources/read of it whole and in ranges of
//   --step bytes (following _meta["io.gatehouse/offload"].next); reports
//   the result's shape and the SHA-256 and length of both read-backs
//   (--no-read: the link only).
// --op read: resources/read --uri once; reports the contents' SHA-256 and
//   length, or the JSON-RPC error (code, message) as data, with ok true:
//   a refusal is what the caller checks, not a failure of the script.
// Exit codes: 0 ok, 1 failed (ok:false, error), 2 usage.

import { createHash } from "node:crypto";
import { findNodeModules, sdkImporter } from "./sdk.mjs";

function usage(msg) {
  if (msg) process.stderr.write(`offload.mjs: ${msg}\n`);
  process.stderr.write("usage: node offload.mjs --url URL [--token T] --op call|read [--tool NAME] [--uri URI] [--step BYTES] [--timeout MS]\n");
  process.exit(2);
}

function parseArgs(argv) {
  const o = { step: 1 << 20, timeout: 60000 };
  for (let i = 0; i < argv.length; i++) {
    const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${argv[i]} needs a value`));
    switch (argv[i]) {
      case "--url": o.url = val(); break;
      case "--token": o.token = val(); break;
      case "--op": o.op = val(); break;
      case "--tool": o.tool = val(); break;
      case "--uri": o.uri = val(); break;
      case "--step": o.step = Number(val()); break;
      case "--timeout": o.timeout = Number(val()); break;
      case "--no-read": o.noRead = true; break;
      default: usage(`unknown argument ${argv[i]}`);
    }
  }
  if (!o.url || !["call", "read"].includes(o.op)) usage("--url and --op call|read are required");
  if (o.op === "call" && !o.tool) usage("--op call needs --tool");
  if (o.op === "read" && !o.uri) usage("--op read needs --uri");
  return o;
}

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

// piece returns the bytes of a read result's single content.
function piece(res) {
  if (!res.contents || res.contents.length !== 1) throw new Error(`read returned ${res.contents?.length} contents`);
  const c = res.contents[0];
  return c.text !== undefined ? Buffer.from(c.text, "utf8") : Buffer.from(c.blob, "base64");
}

async function readAll(client, uri, step, reqOpts) {
  const parts = [];
  let next = step > 0 ? `${uri}?offset=0&length=${step}` : uri;
  let reads = 0;
  while (next) {
    if (++reads > 100000) throw new Error("ranges never end");
    const res = await client.readResource({ uri: next }, reqOpts);
    parts.push(piece(res));
    next = res._meta?.["io.gatehouse/offload"]?.next;
  }
  const all = Buffer.concat(parts);
  return { sha256: sha256(all), bytes: all.length, reads };
}

function rpcError(err) {
  return { code: err?.code ?? null, message: String(err?.message ?? err).replace(/^MCP error -?\d+: /, "") };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const out = { ok: false, op: opts.op, url: opts.url };
  const hard = setTimeout(() => finish({ ...out, error: `timed out after ${opts.timeout} ms` }, 1), opts.timeout + 5000);
  hard.unref();
  let client;
  try {
    const sdk = sdkImporter(findNodeModules());
    const [{ Client }, { StreamableHTTPClientTransport }] = await Promise.all([sdk("client/index.js"), sdk("client/streamableHttp.js")]);
    const headers = opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
    const transport = new StreamableHTTPClientTransport(new URL(opts.url), { requestInit: { headers } });
    client = new Client({ name: "gatehouse-e2e-offload", version: "0.1.0" }, { capabilities: {} });
    const reqOpts = { timeout: opts.timeout };
    await client.connect(transport, reqOpts);
    out.protocolVersion = transport.protocolVersion ?? null;
    out.serverCapabilities = client.getServerCapabilities() ?? null;
    if (opts.op === "call") {
      const res = await client.callTool({ name: opts.tool, arguments: {} }, undefined, reqOpts);
      const r = {
        resultBytes: JSON.stringify(res).length,
        isError: res.isError ?? false,
        content: (res.content ?? []).map((c) => ({
          type: c.type, uri: c.uri, mimeType: c.mimeType, size: c.size, name: c.name,
          textBytes: c.text !== undefined ? Buffer.byteLength(c.text, "utf8") : undefined,
          text: c.text !== undefined ? c.text.slice(0, 2000) : undefined,
        })),
      };
      const link = (res.content ?? []).find((c) => c.type === "resource_link" && c.uri.startsWith("gatehouse://offload/"));
      if (link) {
        r.link = link.uri;
      }
      if (link && !opts.noRead) {
        r.whole = await readAll(client, link.uri, 0, reqOpts);
        r.ranged = await readAll(client, link.uri, opts.step, reqOpts);
      }
      out.result = r;
    } else {
      try {
        const res = await client.readResource({ uri: opts.uri }, reqOpts);
        const b = piece(res);
        out.result = { sha256: sha256(b), bytes: b.length };
      } catch (err) {
        out.result = { error: rpcError(err) };
      }
    }
    out.ok = true;
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
    if (err?.stack) process.stderr.write(`${err.stack}\n`);
  }
  if (client) {
    try { await client.transport?.terminateSession?.(); } catch { /* ignore */ }
    try { await client.close(); } catch { /* ignore */ }
  }
  finish(out, out.ok ? 0 : 1);
}

let finished = false;
function finish(out, code) {
  if (finished) return;
  finished = true;
  process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(code));
}

main();
