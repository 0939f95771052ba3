#!/usr/bin/env node
// extract-tools.mjs — builds Gatehouse's confound-free benign evaluation sets
// from real MCP servers published on npm (test/corpora/README.md):
//
//   1. tool definitions: starts each pinned server (test/corpora/npm/package.json,
//      installed by `make corpora-npm` into test/corpora/npm/node_modules,
//      git-ignored) over STDIO with the official TypeScript SDK client, asks
//      tools/list (every page) and writes one benign tool-list row per tool;
//   2. tool outputs: the README.md (and docs/**/*.md) shipped in the same
//      packages, cut into paragraph-aligned chunks; the chunks that talk about
//      prompts, instructions, assistants or agents become benign tool-call rows
//      (a `read_docs` tool returning that text).
//
// Rows carry source (package@version), licence (as the package declares it;
// a package whose licence the tarball does not establish is skipped), and split, assigned per package (never per row) from a hash of its name.
//
// Usage: node test/corpora/extract-tools.mjs [--out DIR] [--sdk DIR] [--shared FILE]
// Servers are started with placeholder credentials ("placeholder-not-a-key")
// where they refuse to start without one; no network is needed or used for
// tools/list. Each server gets 45 s; a server that fails is reported and skipped.

import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};
const modules = join(here, "npm", "node_modules");
const outDir = resolve(arg("--out", join(repo, "guards", "eval", "testdata")));
const sdkDir = resolve(arg("--sdk", process.env.GATEHOUSE_NODE_MODULES ? join(process.env.GATEHOUSE_NODE_MODULES, "@modelcontextprotocol", "sdk") : join(repo, ".tools", "npm", "node_modules", "@modelcontextprotocol", "sdk")));
const sharedTools = arg("--shared", join(repo, "..", "shared", "corpora", "mcp-tools", "tools.jsonl"));

const { Client } = await import(pathToFileURL(join(sdkDir, "dist", "esm", "client", "index.js")).href);
const { StdioClientTransport } = await import(pathToFileURL(join(sdkDir, "dist", "esm", "client", "stdio.js")).href);
const sdkVersion = JSON.parse(readFileSync(join(sdkDir, "package.json"), "utf8")).version;

const P = "placeholder-not-a-key";
const scratch = mkdtempSync(join(tmpdir(), "gh-corpora-"));
// name → extra argv and env the server needs to start (placeholders only).
const servers = {
  "@modelcontextprotocol/server-filesystem": { args: [scratch] },
  "@modelcontextprotocol/server-memory": { env: { MEMORY_FILE_PATH: join(scratch, "memory.jsonl") } },
  "@modelcontextprotocol/server-sequential-thinking": {},
  "@modelcontextprotocol/server-everything": { args: ["stdio"] },
  "@modelcontextprotocol/server-github": { env: { GITHUB_PERSONAL_ACCESS_TOKEN: P } },
  "@modelcontextprotocol/server-gitlab": { env: { GITLAB_PERSONAL_ACCESS_TOKEN: P } },
  "@modelcontextprotocol/server-slack": { env: { SLACK_BOT_TOKEN: P, SLACK_TEAM_ID: "T000000" } },
  "@modelcontextprotocol/server-google-maps": { env: { GOOGLE_MAPS_API_KEY: P } },
  "@modelcontextprotocol/server-brave-search": { env: { BRAVE_API_KEY: P } },
  "@modelcontextprotocol/server-postgres": { args: ["postgresql://127.0.0.1:1/none"] },
  "@modelcontextprotocol/server-puppeteer": {},
  "@playwright/mcp": {},
  "@upstash/context7-mcp": {},
  "@notionhq/notion-mcp-server": { env: { NOTION_TOKEN: P } },
  "@wonderwhy-er/desktop-commander": {},
  "chrome-devtools-mcp": {},
  "exa-mcp-server": { env: { EXA_API_KEY: P } },
  "tavily-mcp": { env: { TAVILY_API_KEY: P } },
  "firecrawl-mcp": { env: { FIRECRAWL_API_KEY: P } },
  "mcp-server-kubernetes": {},
  "@azure-devops/mcp": { args: ["placeholder-org"] },
  "@heroku/mcp-server": { env: { HEROKU_API_KEY: P } },
  "@circleci/mcp-server-circleci": { env: { CIRCLECI_TOKEN: P } },
  "figma-developer-mcp": { args: ["--stdio"], env: { FIGMA_API_KEY: P } },
};

function pkgInfo(name) {
  const dir = join(modules, name);
  const pj = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  let licence = typeof pj.license === "string" ? pj.license : pj.license?.type;
  const lf = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  const first = lf ? readFileSync(join(dir, lf), "utf8").split("\n").find((l) => l.trim()) || "" : "";
  if (!licence || /^SEE LICENSE/i.test(licence)) {
    if (/MIT/.test(first)) licence = "MIT";
    else if (/Apache/.test(first)) licence = "Apache-2.0";
    else licence = (licence || "undeclared") + (lf ? ` (${lf}: ${first.trim().slice(0, 60)})` : " (no licence file in the npm package)");
  }
  let bin = pj.bin;
  if (typeof bin === "object") bin = Object.values(bin)[0];
  return { dir, version: pj.version, licence, bin: bin ? join(dir, bin) : null, repository: pj.repository?.url || pj.repository || "" };
}

// Split by package: sha256(name)[0] even → dev, odd → test.
const splitOf = (name) => (createHash("sha256").update(name).digest()[0] % 2 === 0 ? "dev" : "test");
const slug = (s) => s.replace(/^@/, "").replace(/[^a-zA-Z0-9]+/g, "-").replace(/-+$/, "");
const hash = (s) => createHash("sha256").update(s).digest("hex").slice(0, 10);

async function listTools(name, info, cfg) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [info.bin, ...(cfg.args || [])],
    env: { PATH: process.env.PATH, HOME: scratch, ...(cfg.env || {}) },
    cwd: scratch,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
  const client = new Client({ name: "gatehouse-corpora", version: "0.0.0" });
  const timer = new Promise((_, rej) => setTimeout(() => rej(new Error("timeout after 45 s")), 45000));
  try {
    await Promise.race([client.connect(transport), timer]);
    const tools = [];
    let cursor;
    do {
      const r = await Promise.race([client.listTools(cursor ? { cursor } : {}), timer]);
      tools.push(...r.tools);
      cursor = r.nextCursor;
    } while (cursor);
    return { tools };
  } catch (e) {
    return { error: `${e.message}; stderr: ${stderr.trim().split("\n").slice(-3).join(" | ")}` };
  } finally {
    await client.close().catch(() => {});
  }
}

// Documentation chunks: paragraphs joined up to ~1,200 characters.
function chunks(text, max = 1200) {
  const out = [];
  let cur = "";
  for (const para of text.split(/\n\s*\n/)) {
    if (cur && cur.length + para.length > max) {
      out.push(cur);
      cur = "";
    }
    cur += (cur ? "\n\n" : "") + para;
  }
  if (cur.trim()) out.push(cur);
  return out.map((c) => c.trim()).filter((c) => c.length >= 200);
}
const instructionHeavy = /\b(prompts?|instructions?|instruct|assistant|LLMs?|agents?|Claude|Cursor|ignore|system message|you should|tell (the|your) (model|AI)|ask (the|your) (AI|assistant|model))\b/i;

function docFiles(dir) {
  const out = [];
  const walk = (d, depth) => {
    for (const f of readdirSync(d)) {
      if (f === "node_modules" || f.startsWith(".")) continue;
      const p = join(d, f);
      const s = statSync(p);
      if (s.isDirectory() && depth < 3 && /^(docs?|skills?|[^.]+)$/.test(f) && (depth > 0 || /^(docs?|skills?)$/.test(f))) walk(p, depth + 1);
      else if (s.isFile() && /\.md$/i.test(f) && !/^(CHANGELOG|LICENSE)/i.test(f)) out.push(p);
    }
  };
  walk(dir, 0);
  return out.sort();
}

const shared = new Set();
if (existsSync(sharedTools)) {
  for (const line of readFileSync(sharedTools, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    if (r.tool) shared.add(`${r.tool.name}\u0000${(r.tool.description || "").trim()}`);
  }
}

const toolRows = [];
const docRows = [];
const report = [];
for (const [name, cfg] of Object.entries(servers)) {
  if (!existsSync(join(modules, name, "package.json"))) {
    report.push(`${name}: not installed (run make corpora-npm)`);
    continue;
  }
  const info = pkgInfo(name);
  const source = `${name}@${info.version}`;
  if (!/^(MIT|Apache-2\.0|BSD-[23]-Clause|ISC)$/.test(info.licence)) {
    // Nothing is checked in whose licence the package itself does not state.
    report.push(`${source}: skipped, licence not established from the npm package: ${info.licence}`);
    continue;
  }
  const split = splitOf(name);
  const common = { label: "benign", source, source_repository: String(info.repository).replace(/^git\+/, ""), licence: info.licence, group: name, split };
  const res = await listTools(name, info, cfg);
  if (res.error) report.push(`${source}: tools/list failed: ${res.error}`);
  else {
    const seen = new Set();
    for (const t of res.tools) {
      const key = `${t.name}\u0000${(t.description || "").trim()}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const tool = { name: t.name, description: t.description || "", inputSchema: t.inputSchema || { type: "object" } };
      if (t.title) tool.title = t.title;
      toolRows.push({ id: `npm-${slug(name)}-${slug(t.name)}`, category: "benign-npm-tool", ...common, source_path: "tools/list", extracted_with: `@modelcontextprotocol/sdk@${sdkVersion} StdioClientTransport`, also_in_shared_corpora: shared.has(key), tool });
    }
    report.push(`${source}: ${seen.size} tools (${split})`);
  }
  let nDocs = 0;
  for (const f of docFiles(info.dir)) {
    const rel = relative(info.dir, f);
    for (const c of chunks(readFileSync(f, "utf8"))) {
      if (!instructionHeavy.test(c)) continue;
      nDocs++;
      docRows.push({
        id: `npmdoc-${slug(name)}-${hash(rel + c)}`, category: "benign-docs-about-prompts", ...common, source_path: rel,
        call: { tool: "read_docs", description: "Read a documentation page of an installed package and return its text.", arguments: { package: name, path: rel }, result: { content: [{ type: "text", text: c }] } },
      });
    }
  }
  report.push(`${source}: ${nDocs} documentation chunks that talk about prompts/instructions/agents (${split})`);
}

const jsonl = (rows) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
writeFileSync(join(outDir, "npm-tools", "tools.jsonl"), jsonl(toolRows));
writeFileSync(join(outDir, "npm-docs", "docs.jsonl"), jsonl(docRows));
console.log(report.join("\n"));
console.log(`wrote ${toolRows.length} tool rows and ${docRows.length} documentation rows to ${outDir}/{npm-tools,npm-docs}`);
process.exit(0);
