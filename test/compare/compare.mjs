// Scores a public prompt-injection detector from npm on the rows
// `make guard-eval` judges (same files, same splits) and prints recall and
// false-positive rate with 95 % Wilson intervals per set and split, so the
// figures sit beside guard-eval's (docs/guard-eval.md, "Comparison").
//
// Detector: @andersmyrmel/vard 1.2.0 (pinned in npm/package-lock.json),
// default preset, `vard.safe(text)`; a row is detected when the result is
// not safe. Its 10,000-character default limit is lifted (maxLength) so
// length alone is not a detection. Text per row: a tool definition's name,
// description and every string of its input schema; a call row's result
// text; a bare text row as is. Command-injection and secrets rows are not
// scored (vard is not built for them).
//
//   node test/compare/compare.mjs [corpora-dir]   (make guard-compare)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vard from "./npm/node_modules/@andersmyrmel/vard/dist/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const corpora = process.argv[2] || path.resolve(root, "..", "shared", "corpora");
const sets = [
  [path.join(corpora, "mcp-tools", "tools.jsonl"), "mcp-tools"],
  [path.join(corpora, "tool-outputs", "tool_outputs.jsonl"), "tool-outputs"],
  [path.join(corpora, "tool-outputs", "bipia_attack_instructions.jsonl"), "tool-outputs"],
  [path.join(root, "guards/eval/testdata/npm-tools/tools.jsonl"), "npm-tools"],
  [path.join(root, "guards/eval/testdata/npm-docs/docs.jsonl"), "npm-docs"],
  [path.join(root, "guards/eval/testdata/poisoned-styles/tools.jsonl"), "poisoned-styles"],
];

function strings(v, out) {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) v.forEach((e) => strings(e, out));
  else if (v && typeof v === "object") for (const k of Object.keys(v).sort()) { out.push(k); strings(v[k], out); }
  return out;
}

function resultText(r) {
  if (r == null) return "";
  if (typeof r === "string") return r;
  const parts = Array.isArray(r) ? r : Array.isArray(r.content) ? r.content : null;
  if (parts) {
    const t = parts.filter((p) => p && p.text).map((p) => p.text);
    if (t.length) return t.join("\n");
  }
  return JSON.stringify(r);
}

function textOf(row) {
  if (row.tool) return [row.tool.name, row.tool.description || "", ...strings(row.tool.inputSchema || {}, [])].join("\n");
  if (row.call) return resultText(row.call.result);
  if (typeof row.text === "string") return row.text;
  return null;
}

// Wilson score interval, 95 %.
function wilson(k, n) {
  if (n === 0) return "-";
  const z = 1.959963984540054, p = k / n, d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d, h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  const f = (x) => (100 * x).toFixed(1);
  return `${f(p)}% [${f(Math.max(0, c - h))}–${f(Math.min(1, c + h))}]`;
}

const detector = vard.moderate().maxLength(1e9);
const cells = new Map();
let bad = 0;
for (const [file, folder] of sets) {
  if (!fs.existsSync(file)) {
    console.error(`compare: missing ${file}`);
    process.exit(1);
  }
  for (const [i, line] of fs.readFileSync(file, "utf8").split("\n").entries()) {
    if (!line.trim()) continue;
    let row;
    try {
      row = JSON.parse(line);
    } catch (e) {
      console.error(`compare: ${file}:${i + 1}: ${e.message}`);
      process.exit(1);
    }
    if (row.label !== "malicious" && row.label !== "benign") continue;
    const text = textOf(row);
    if (text == null) { bad++; continue; }
    const hit = !detector.safeParse(text).safe;
    const key = `${folder}\t${row.label}\t${row.split}`;
    const c = cells.get(key) || { hit: 0, n: 0 };
    c.n++;
    if (hit) c.hit++;
    cells.set(key, c);
  }
}
console.log("detector: @andersmyrmel/vard 1.2.0, moderate preset (the default), maxLength lifted");
console.log(["set", "label", "split", "rows", "detected", "rate (recall for malicious, FPR for benign) [95 % CI]"].join("\t"));
for (const key of [...cells.keys()].sort()) {
  const c = cells.get(key);
  console.log(`${key}\t${c.n}\t${c.hit}\t${wilson(c.hit, c.n)}`);
}
if (bad) console.log(`rows without text: ${bad}`);
