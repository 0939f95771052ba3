// Command secretset builds the secrets evaluation set that the shared
// gitleaks samples cannot give (docs/guard-eval.md): real files a tool
// may return, with credential-shaped text that is not a secret, and the
// same text with a credential in it.
//
//   - benign-docs-credential-examples: windows of the README and docs
//     Markdown shipped in the npm packages under test/corpora/npm (the
//     pinned MCP servers and everything they depend on) around an
//     assignment to a credential-named variable — placeholders
//     ("your-api-key", "<YOUR_TOKEN>", "ntn_****"), variable references,
//     code that handles tokens;
//   - benign-hash-dense: chunks of lockfiles (package-lock.json) and of the
//     go.sum files of the Go modules this repository builds with, dense in
//     integrity hashes that look like keys to an entropy test;
//   - secret-planted (malicious): every docs window whose assignment has a
//     literal value, with that value replaced by a generated credential in
//     the format the variable's provider uses (ghp_… for a GitHub token,
//     xoxb-… for Slack, AKIA… for AWS) or a random 32-character key when
//     the provider is not known. The window around it is the real text, so
//     the pair (placeholder, planted) differs only in the value: what an
//     entropy and allowlist layer has to tell apart.
//
// Generated values come from a generator seeded by the row's id, so a run
// is reproducible; they are random strings in a known format, never real
// credentials. Splits are by source (npm package, lockfile, Go module),
// never by row: sha256(group), first byte even → dev, odd → test.
//
// Usage: go run ./test/corpora/secretset [-npm DIR] [-out FILE] [-out-go FILE] [-deb DIR] [-out-deb FILE]
// (make corpora-secrets; needs make corpora-npm first).
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

func main() {
	npm := flag.String("npm", "test/corpora/npm", "folder holding package-lock.json and node_modules of the pinned npm packages")
	out := flag.String("out", "guards/eval/testdata/secrets-real/rows.jsonl", "where the npm rows are written")
	outGo := flag.String("out-go", "guards/eval/testdata/secrets-go/rows.jsonl", "where the Go module rows are written")
	debDocs := flag.String("deb", "/usr/share/doc", "the installed Debian packages' documentation")
	outDeb := flag.String("out-deb", "guards/eval/testdata/secrets-debian/rows.jsonl", "where the Debian documentation rows are written")
	flag.Parse()
	if err := run(*npm, *out, *outGo); err != nil {
		fmt.Fprintln(os.Stderr, "secretset:", err)
		os.Exit(1)
	}
	if err := write(*outDeb, debianRows(*debDocs)); err != nil {
		fmt.Fprintln(os.Stderr, "secretset:", err)
		os.Exit(1)
	}
}

// row is one evaluation row in guard-eval's call-row schema.
type row struct {
	ID         string   `json:"id"`
	Category   string   `json:"category"`
	Label      string   `json:"label"`
	Source     string   `json:"source"`
	Licence    string   `json:"licence"`
	Group      string   `json:"group"`
	Split      string   `json:"split"`
	SourcePath string   `json:"source_path"`
	Planted    *planted `json:"planted,omitempty"`
	Call       call     `json:"call"`
}

type planted struct {
	Variable string `json:"variable"`
	Format   string `json:"format"`
	Replaced string `json:"replaced"`
}

type call struct {
	Tool        string          `json:"tool"`
	Description string          `json:"description"`
	Arguments   json.RawMessage `json:"arguments"`
	Result      json.RawMessage `json:"result"`
}

func run(npmDir, out, outGo string) error {
	var rows []row
	docs, err := docRows(filepath.Join(npmDir, "node_modules"))
	if err != nil {
		return err
	}
	rows = append(rows, docs...)
	locks, err := lockRows(npmDir)
	if err != nil {
		return err
	}
	rows = append(rows, locks...)
	if err := write(out, rows); err != nil {
		return err
	}
	mods, err := goModules()
	if err != nil {
		return err
	}
	return write(outGo, append(goDocRows(mods), goSumRows(mods)...))
}

// write writes rows as JSON lines to out and prints their counts.
func write(out string, rows []row) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	counts := map[string]int{}
	for _, r := range rows {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
		counts[r.Category+" "+r.Split]++
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return err
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%-45s %5d\n", k, counts[k])
	}
	fmt.Printf("%d rows → %s\n", len(rows), out)
	return nil
}

// reAssign finds an assignment to a credential-named variable in prose or
// code: NAME = value, NAME: value, "NAME": "value".
var reAssign = regexp.MustCompile(`(?i)\b([A-Z0-9_]*(?:API[_-]?KEY|TOKEN|SECRET|PASSWORD|PASSWD|ACCESS[_-]?KEY|PRIVATE[_-]?KEY|CLIENT[_-]?SECRET|_PAT))\b["']?[ \t]*(?:=|:)[ \t]*["']?([^\s"',;)}\x60]{1,160})`)

// rePEM marks a window holding a private key block: an example key in a
// README is still a key, so such windows are not benign rows.
var rePEM = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----\s*\S{40,}`)

// reLiteral is a value that reads as a literal written in place (a
// placeholder or an example), not code or a type: only those are replaced
// by a planted credential.
var reLiteral = regexp.MustCompile(`^[<$]?\{?[A-Za-z0-9_*.+/=:<>-]{3,}\}?>?$`)

// reCode is a value that is code, not a literal: a member expression
// (source.token, process.env.X), a generic type (IToken<number>), a
// camelCase identifier (apiKey, privateKeyStream) or a PEM header.
var reCode = regexp.MustCompile(`^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$|\w<\w+>|^[a-z]+[A-Z][A-Za-z0-9]*$|^-----`)

// reIdent is a variable name written as a program identifier (an
// underscore or camelCase: access_token, apiKey), not a word in prose or
// a configuration keyword (passwd:, NOPASSWD:).
var reIdent = regexp.MustCompile(`_|[a-z][A-Z]`)

// plantable reports whether an assignment's value sits where a literal
// credential would be written, so a generated one can take its place.
func plantable(value string) bool {
	return reLiteral.MatchString(value) && !reCode.MatchString(value) && !notValues[strings.ToLower(value)]
}

var notValues = map[string]bool{"true": true, "false": true, "null": true, "string": true, "boolean": true, "number": true, "new": true, "undefined": true, "bearer": true, "basic": true, "token": true, "required": true, "optional": true}

const (
	maxWindow      = 1200
	maxPerPackage  = 12
	docTool        = "read_file"
	docDescription = "Read a text file from the project workspace."
)

type pkgMeta struct {
	name, version, licence string
}

func docRows(modules string) ([]row, error) {
	var rows []row
	perPkg := map[string]int{}
	seen := map[string]bool{}
	err := filepath.WalkDir(modules, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(strings.ToLower(d.Name()), ".md") {
			return nil
		}
		rel, _ := filepath.Rel(modules, p)
		pkgDir, inPkg := packageOf(rel)
		if !strings.EqualFold(d.Name(), "readme.md") && !strings.Contains(inPkg, "docs/") {
			return nil
		}
		meta, err := readMeta(filepath.Join(modules, pkgDir))
		if err != nil || meta.licence == "" {
			return nil // a package whose licence the tarball does not establish is left out
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rows = append(rows, windowRows(meta, inPkg, string(b), perPkg, seen, false)...)
		return nil
	})
	return rows, err
}

// windowRows makes the benign window row, and where the value is a
// literal the planted row, of every credential assignment in text (a
// Markdown file at inPkg in meta's package or module).
func windowRows(meta pkgMeta, inPkg, text string, perPkg map[string]int, seen map[string]bool, identOnly bool) []row {
	var rows []row
	for _, m := range reAssign.FindAllStringSubmatchIndex(text, -1) {
		if perPkg[meta.name] >= maxPerPackage {
			break
		}
		ws, we := window(text, m[0], m[1])
		w := text[ws:we]
		if seen[w] || rePEM.MatchString(w) {
			continue
		}
		seen[w] = true
		perPkg[meta.name]++
		base := row{
			Label: "benign", Category: "benign-docs-credential-examples",
			Source: meta.name + "@" + meta.version, Licence: meta.licence,
			Group: meta.name, Split: splitOf(meta.name), SourcePath: inPkg,
		}
		base.ID = "secdoc-" + shortHash(meta.name+"\x00"+inPkg+"\x00"+w)
		base.Call = fileCall(meta.name+"/"+inPkg, w)
		rows = append(rows, base)

		variable, value := text[m[2]:m[3]], text[m[4]:m[5]]
		if !plantable(value) || identOnly && !reIdent.MatchString(variable) {
			continue
		}
		p := base
		p.ID = "secplant-" + base.ID[len("secdoc-"):]
		p.Label, p.Category = "malicious", "secret-planted"
		format, secret := generate(variable, seededRand(p.ID))
		p.Planted = &planted{Variable: variable, Format: format, Replaced: value}
		vs, ve := m[4]-ws, m[5]-ws
		p.Call = fileCall(meta.name+"/"+inPkg, w[:vs]+secret+w[ve:])
		rows = append(rows, p)
	}
	return rows
}

// packageOf splits a path under node_modules into the package's folder
// (scope included, nested node_modules followed) and the path inside it.
func packageOf(rel string) (pkgDir, inPkg string) {
	parts := strings.Split(filepath.ToSlash(rel), "/")
	start := 0
	for i := 0; i < len(parts); i++ {
		if parts[i] == "node_modules" {
			start = i + 1
		}
	}
	n := 1
	if strings.HasPrefix(parts[start], "@") {
		n = 2
	}
	return strings.Join(parts[:start+n], "/"), strings.Join(parts[start+n:], "/")
}

func readMeta(dir string) (pkgMeta, error) {
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return pkgMeta{}, err
	}
	var pj struct {
		Name    string          `json:"name"`
		Version string          `json:"version"`
		License json.RawMessage `json:"license"`
	}
	if err := json.Unmarshal(b, &pj); err != nil {
		return pkgMeta{}, err
	}
	var lic string
	if json.Unmarshal(pj.License, &lic) != nil {
		var obj struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(pj.License, &obj)
		lic = obj.Type
	}
	if strings.HasPrefix(strings.ToUpper(lic), "SEE LICENSE") {
		lic = ""
	}
	return pkgMeta{name: pj.Name, version: pj.Version, licence: lic}, nil
}

// window widens [s, e) to whole lines, up to maxWindow bytes, stopping at
// blank lines (a paragraph or code block around the match).
func window(text string, s, e int) (int, int) {
	ws := strings.LastIndexByte(text[:s], '\n') + 1
	we := e + strings.IndexByte(text[e:]+"\n", '\n')
	for we-ws < maxWindow {
		grew := false
		if ws > 0 {
			prev := strings.LastIndexByte(text[:ws-1], '\n') + 1
			if line := text[prev : ws-1]; strings.TrimSpace(line) != "" && we-prev <= maxWindow {
				ws, grew = prev, true
			}
		}
		if we < len(text) {
			next := we + 1 + strings.IndexByte(text[we+1:]+"\n", '\n')
			if next > len(text) {
				next = len(text)
			}
			if line := text[we+1 : next]; strings.TrimSpace(line) != "" && next-ws <= maxWindow {
				we, grew = next, true
			}
		}
		if !grew {
			break
		}
	}
	return ws, we
}

func fileCall(path, text string) call {
	args, _ := json.Marshal(map[string]string{"path": path})
	res, _ := json.Marshal(map[string]any{"content": []map[string]string{{"type": "text", "text": text}}})
	return call{Tool: docTool, Description: docDescription, Arguments: args, Result: res}
}

// lockRows cuts the pinned npm lockfiles into 25-line chunks (at most 12
// per file, spread over it).
func lockRows(npmDir string) ([]row, error) {
	files := []struct{ path, group string }{
		{filepath.Join(npmDir, "package-lock.json"), "test/corpora/npm/package-lock.json"},
		{"test/compare/npm/package-lock.json", "test/compare/npm/package-lock.json"},
		{".tools/npm/package-lock.json", ".tools/npm/package-lock.json"},
	}
	var rows []row
	for _, f := range files {
		b, err := os.ReadFile(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w (run make tools corpora-npm first)", f.path, err)
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, chunkRows(string(b), f.group, "npm lockfile (its packages' own licences; hashes and URLs only)", f.group, 12)...)
	}
	return rows, nil
}

// goModule is one module of this repository's build list, unpacked in
// the module cache.
type goModule struct{ path, version, dir string }

func goModules() ([]goModule, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}}\t{{.Version}}\t{{.Dir}}", "all").Output()
	if err != nil {
		return nil, fmt.Errorf("go list -m all: %w", err)
	}
	var mods []goModule
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 || f[2] == "" || strings.HasPrefix(f[0], "github.com/gatehouse-mcp/") {
			continue
		}
		mods = append(mods, goModule{f[0], f[1], f[2]})
	}
	return mods, sc.Err()
}

// goSumRows takes up to three chunks of the go.sum of every module that
// ships one.
func goSumRows(mods []goModule) []row {
	var rows []row
	for _, m := range mods {
		b, err := os.ReadFile(filepath.Join(m.dir, "go.sum"))
		if err != nil {
			continue
		}
		rows = append(rows, chunkRows(string(b), m.path+"@"+m.version, "Go module (its own licence; module paths and hashes only)", m.path, 3)...)
	}
	return rows
}

// goDocRows are the docs windows of the modules' own README.md and
// docs/**/*.md (not vendored or test data), for modules whose LICENSE
// file names a licence.
func goDocRows(mods []goModule) []row {
	var rows []row
	perPkg := map[string]int{}
	seen := map[string]bool{}
	for _, m := range mods {
		lic := licenceOf(m.dir)
		if lic == "" {
			continue
		}
		meta := pkgMeta{name: m.path, version: m.version, licence: lic}
		_ = filepath.WalkDir(m.dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(m.dir, p)
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				if n := d.Name(); n == "vendor" || n == "testdata" || n == "node_modules" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(strings.ToLower(rel), ".md") || !(strings.EqualFold(d.Name(), "readme.md") || strings.Contains(rel, "docs/")) {
				return nil
			}
			b, err := os.ReadFile(p)
			if err == nil {
				rows = append(rows, windowRows(meta, rel, string(b), perPkg, seen, false)...)
			}
			return nil
		})
	}
	return rows
}

// debianRows are the docs windows of the documentation Debian packages
// install under dir (README, examples, sample configurations; not the
// changelogs or the copyright file itself), gzip-compressed or not, for
// packages whose copyright file names a licence. Group: the package.
func debianRows(dir string) []row {
	var rows []row
	perPkg := map[string]int{}
	seen := map[string]bool{}
	pkgs, _ := os.ReadDir(dir)
	for _, pkg := range pkgs {
		base := filepath.Join(dir, pkg.Name())
		lic := debianLicence(filepath.Join(base, "copyright"))
		if lic == "" {
			continue
		}
		version := "installed"
		if out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg.Name()).Output(); err == nil && len(out) > 0 {
			version = string(out)
		}
		meta := pkgMeta{name: "debian:" + pkg.Name(), version: version, licence: lic}
		_ = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
				return nil
			}
			n := strings.ToLower(d.Name())
			if n == "copyright" || strings.HasPrefix(n, "changelog") || strings.HasPrefix(n, "news") {
				return nil
			}
			text, ok := readMaybeGzip(p)
			if ok {
				rel, _ := filepath.Rel(base, p)
				rows = append(rows, windowRows(meta, filepath.ToSlash(rel), text, perPkg, seen, true)...)
			}
			return nil
		})
	}
	return rows
}

// readMaybeGzip reads a text file, gunzipping a .gz; binary files are
// refused.
func readMaybeGzip(p string) (string, bool) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", false
	}
	if strings.HasSuffix(p, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return "", false
		}
		if b, err = io.ReadAll(io.LimitReader(zr, 4<<20)); err != nil {
			return "", false
		}
	}
	if bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}

// debianLicence is the first License: field of a machine-readable
// copyright file (DEP-5), or "".
func debianLicence(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "License:"); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v) + " (Debian copyright file)"
		}
	}
	return ""
}

// licenceOf names the licence a module's LICENSE file grants, or "".
func licenceOf(dir string) string {
	for _, name := range []string{"LICENSE", "LICENSE.md", "LICENSE.txt", "COPYING"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		t := string(b)
		switch {
		case strings.Contains(t, "Permission is hereby granted, free of charge"):
			return "MIT (" + name + ")"
		case strings.Contains(t, "Apache License"):
			return "Apache-2.0 (" + name + ")"
		case strings.Contains(t, "Redistribution and use in source and binary forms"):
			return "BSD (" + name + ")"
		case strings.Contains(t, "Mozilla Public License"):
			return "MPL-2.0 (" + name + ")"
		}
	}
	return ""
}

func chunkRows(text, source, licence, group string, max int) []row {
	lines := strings.SplitAfter(strings.TrimRight(text, "\n"), "\n")
	const size = 25
	n := (len(lines) + size - 1) / size
	step := 1
	if n > max {
		step = n / max
	}
	var rows []row
	for c := 0; c < n && len(rows) < max; c += step {
		end := min((c+1)*size, len(lines))
		chunk := strings.Join(lines[c*size:end], "")
		if len(chunk) > 4096 {
			chunk = chunk[:strings.LastIndexByte(chunk[:4096], '\n')+1]
		}
		rows = append(rows, row{
			ID: "sechash-" + shortHash(source+"\x00"+chunk), Category: "benign-hash-dense", Label: "benign",
			Source: source, Licence: licence, Group: group, Split: splitOf(group),
			SourcePath: fmt.Sprintf("lines %d-%d", c*size+1, end), Call: fileCall(source, chunk),
		})
	}
	return rows
}

func splitOf(group string) string {
	if sha256.Sum256([]byte(group))[0]%2 == 0 {
		return "dev"
	}
	return "test"
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:5])
}

func seededRand(id string) *rand.Rand {
	h := sha256.Sum256([]byte(id))
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
}

const (
	base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	hexLow = "0123456789abcdef"
	upper2 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)

func pick(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func digits(r *rand.Rand, n int) string { return pick(r, "0123456789", n) }

// generate makes a credential in the format the variable's provider
// documents (its published prefix and length), or a random key.
func generate(variable string, r *rand.Rand) (format, value string) {
	v := strings.ToUpper(variable)
	switch {
	case strings.Contains(v, "GITHUB") || strings.HasPrefix(v, "GH_"):
		return "github-pat", "ghp_" + pick(r, base62, 36)
	case strings.Contains(v, "GITLAB"):
		return "gitlab-pat", "glpat-" + pick(r, base62+"_-", 20)
	case strings.Contains(v, "SLACK"):
		return "slack-bot-token", "xoxb-" + digits(r, 12) + "-" + digits(r, 13) + "-" + pick(r, base62, 24)
	case strings.Contains(v, "OPENAI"):
		return "openai-project-key", "sk-proj-" + pick(r, base62+"_-", 64) + "T3BlbkFJ" + pick(r, base62+"_-", 64)
	case strings.Contains(v, "ANTHROPIC"):
		return "anthropic-key", "sk-ant-api03-" + pick(r, base62+"_-", 93) + "AA"
	case strings.Contains(v, "NOTION"):
		return "notion-token", "ntn_" + digits(r, 11) + pick(r, base62, 35)
	case strings.Contains(v, "STRIPE"):
		return "stripe-secret-key", "sk_live_" + pick(r, base62, 24)
	case strings.Contains(v, "AWS") && strings.Contains(v, "SECRET"):
		return "aws-secret-key", pick(r, base62+"+/", 40)
	case strings.Contains(v, "AWS"):
		return "aws-access-key-id", "AKIA" + pick(r, upper2, 16)
	case strings.Contains(v, "GOOGLE") || strings.Contains(v, "GEMINI") || strings.Contains(v, "MAPS"):
		return "google-api-key", "AIza" + pick(r, base62+"_-", 35)
	case strings.Contains(v, "NPM"):
		return "npm-token", "npm_" + pick(r, base62, 36)
	case strings.Contains(v, "HUGGING") || strings.HasPrefix(v, "HF_"):
		return "huggingface-token", "hf_" + pick(r, base62[:52], 34)
	case strings.Contains(v, "FIRECRAWL"):
		return "firecrawl-key", "fc-" + pick(r, hexLow, 32)
	case strings.Contains(v, "TAVILY"):
		return "tavily-key", "tvly-" + pick(r, base62, 32)
	case strings.Contains(v, "FIGMA"):
		return "figma-pat", "figd_" + pick(r, base62+"_-", 40)
	case strings.Contains(v, "PASSWORD") || strings.Contains(v, "PASSWD"):
		return "password", pick(r, base62, 10) + pick(r, "!@#%^*", 1) + pick(r, base62, 5)
	case strings.Contains(v, "EXA") || strings.Contains(v, "HEROKU"):
		u := pick(r, hexLow, 32)
		return "uuid-key", u[:8] + "-" + u[8:12] + "-4" + u[13:16] + "-a" + u[17:20] + "-" + u[20:]
	default:
		return "random-key", pick(r, base62, 32)
	}
}
