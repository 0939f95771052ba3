// Package eval measures guards on labelled corpora: it maps each fixture
// row to the guard.Input of its hook, asks a Judge for a verdict, and
// prints precision, recall and false-positive rate per corpus folder,
// category and split, plus one false-positive rate over all benign rows.
//
// Rows come from the public corpora (../shared/corpora: mcp-tools,
// tool-outputs, secrets, command-injection) and from this package's own
// labelled cases (testdata/intent, testdata/exfil), embedded so the harness
// runs from any directory.
package eval

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

//go:embed testdata
var testdata embed.FS

// Judge returns a guard's verdict for one input; phase is the hook name
// (guard.HookToolList, guard.HookToolCall, guard.HookToolIntent).
type Judge func(phase string, in *guard.Input) (guard.Verdict, error)

// Options narrows a run.
type Options struct {
	// Split is "dev", "test" or "" (all).
	Split string
	// Threshold is the sensitivity threshold sent to the guard (0 lets
	// the guard use its default).
	Threshold float64
	// Explain, when set, receives one line per misclassified row with the
	// verdict's reason codes (for tuning on dev).
	Explain io.Writer
	// Markdown prints the main table as Markdown instead of text.
	Markdown bool
	// Request judges call rows before the call (tool_request, ABI 1.2):
	// their tool and arguments only, no output.
	Request bool
}

func reasonCodes(v guard.Verdict) string {
	var b strings.Builder
	for i, r := range v.Reasons {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.Code)
		if i == 7 {
			b.WriteString(",…")
			break
		}
	}
	return b.String()
}

// Row is one labelled fixture row (the `gatehouse guard test` format plus
// the corpora's extra fields; unknown fields are ignored).
type Row struct {
	ID             string          `json:"id"`
	Label          string          `json:"label"`
	Category       string          `json:"category"`
	Split          string          `json:"split"`
	Group          string          `json:"group"`
	Page           string          `json:"page"`
	RuleID         string          `json:"rule_id"`
	AttackCategory string          `json:"attack_category"`
	Text           *string         `json:"text"`
	Tool           *RowTool        `json:"tool"`
	Call           *RowCall        `json:"call"`
	Tools          []guard.Tool    `json:"tools"`
	Hook           string          `json:"hook"`
	Extra          json.RawMessage `json:"-"`

	folder string
}

// RowTool is a tool definition row.
type RowTool struct {
	Name        string          `json:"name"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"inputSchema"`
}

// RowCall is a tool call row.
type RowCall struct {
	Tool        string          `json:"tool"`
	Description string          `json:"description"`
	Arguments   json.RawMessage `json:"arguments"`
	Result      json.RawMessage `json:"result"`
}

// RunOptions evaluates judge on every labelled row under corporaDir (one
// folder per corpus) and on the embedded testdata, with a split filter
// and threshold, and writes the tables to w.
func RunOptions(corporaDir string, judge Judge, w io.Writer, opt Options) error {
	rows, err := LoadAll(corporaDir)
	if err != nil {
		return err
	}
	res, err := Evaluate(rows, judge, opt)
	if err != nil {
		return err
	}
	if opt.Markdown {
		res.WriteMarkdown(w)
		return nil
	}
	res.Write(w)
	return nil
}

// LoadAll reads the corpora folders and the embedded testdata.
func LoadAll(corporaDir string) ([]Row, error) {
	var rows []Row
	if corporaDir != "" {
		r, err := loadFS(os.DirFS(corporaDir), ".")
		if err != nil {
			return nil, fmt.Errorf("load corpora %q: %w", corporaDir, err)
		}
		rows = append(rows, r...)
	}
	sub, err := fs.Sub(testdata, "testdata")
	if err != nil {
		return nil, err
	}
	r, err := loadFS(sub, ".")
	if err != nil {
		return nil, fmt.Errorf("load testdata: %w", err)
	}
	return append(rows, r...), nil
}

// loadFS reads every *.jsonl file one folder below root; a row without a
// label (rule definitions, allowlists) is skipped.
func loadFS(fsys fs.FS, root string) ([]Row, error) {
	var rows []Row
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".jsonl") {
			return nil
		}
		folder := path.Dir(p)
		if folder == "." {
			folder = strings.TrimSuffix(path.Base(p), ".jsonl")
		}
		folder = strings.Split(folder, "/")[0]
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
		line := 0
		for sc.Scan() {
			line++
			t := bytes.TrimSpace(sc.Bytes())
			if len(t) == 0 {
				continue
			}
			var r Row
			if err := json.Unmarshal(t, &r); err != nil {
				return fmt.Errorf("%s:%d: %w", p, line, err)
			}
			if r.Label != "malicious" && r.Label != "benign" {
				continue
			}
			if r.Tool == nil && r.Call == nil && r.Text == nil && len(r.Tools) == 0 {
				continue
			}
			r.folder = folder
			if r.Text != nil && folder == "tool-outputs" {
				// Raw attack strings: one line in the main table, their
				// BIPIA category in the attack breakdown.
				r.AttackCategory, r.Category = "raw:"+r.Category, "raw-attack-instruction"
			}
			rows = append(rows, r)
		}
		return sc.Err()
	})
	return rows, err
}

// shellTool is the tool command-injection rows are sent to.
var shellTool = guard.ToolRef{Name: "run_command", Description: "Run a shell command in the user's terminal and return its output."}

// fileTool is the tool secret rows come back from.
var fileTool = guard.ToolRef{Name: "read_file", Description: "Read a text file from the project workspace."}

// injectionBases are the benign argument values an injection payload is
// appended to (as a web form or tool argument would carry it).
var injectionBases = []string{"ls -la", "ping -c 1 example.com", "cat README.md", "grep -rn TODO src", "echo hello", "whois example.org", "nslookup example.com", "git status"}

// ToInput maps a row to its hook and guard input.
func ToInput(r Row, threshold float64) (string, *guard.Input, error) {
	in := &guard.Input{V: guard.ABIVersion, RequestID: r.ID, Sensitivity: guard.Sensitivity{Level: "eval", Threshold: threshold}}
	switch {
	case len(r.Tools) > 0:
		in.Hook = guard.HookToolList
		in.Tools = r.Tools
	case r.Tool != nil:
		in.Hook = guard.HookToolList
		in.Tools = []guard.Tool{{Name: r.Tool.Name, Title: r.Tool.Title, Description: r.Tool.Description, InputSchema: r.Tool.InputSchema}}
	case r.Call != nil:
		in.Hook = guard.HookToolCall
		in.Tool = &guard.ToolRef{Name: r.Call.Tool, Description: r.Call.Description}
		in.Arguments = r.Call.Arguments
		in.Output = &guard.Output{Content: r.Call.Result, Text: resultText(r.Call.Result)}
	case r.Text != nil && r.folder == "command-injection":
		in.Hook = guard.HookToolCall
		tool := shellTool
		in.Tool = &tool
		cmd := *r.Text
		if r.Label == "malicious" && cmd != "" {
			h := fnv.New32a()
			h.Write([]byte(r.ID))
			base := injectionBases[int(h.Sum32())%len(injectionBases)]
			// Fragments that start with a separator or quote are appended
			// as is ("ls -la; id"); bare commands become the next token.
			if c := cmd[0]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
				base += " "
			}
			cmd = base + cmd
		}
		args, _ := json.Marshal(map[string]string{"command": cmd})
		in.Arguments = args
		in.Output = &guard.Output{}
	case r.Text != nil:
		in.Hook = guard.HookToolCall
		tool := fileTool
		in.Tool = &tool
		in.Arguments = json.RawMessage(`{"path":"notes.txt"}`)
		in.Output = &guard.Output{Text: *r.Text}
	default:
		return "", nil, errors.New("row has neither tool, call nor text")
	}
	if r.Hook != "" {
		in.Hook = r.Hook
	}
	return in.Hook, in, nil
}

// resultText is the text the host would hand a guard: a string as is, the
// text parts of MCP content ({"content":[{"type":"text","text":…}]} or a
// bare content array), else the JSON itself.
func resultText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	type part struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	var obj struct {
		Content []part `json:"content"`
	}
	var arr []part
	var texts []string
	if json.Unmarshal(raw, &obj) == nil && len(obj.Content) > 0 {
		arr = obj.Content
	} else if json.Unmarshal(raw, &arr) != nil {
		arr = nil
	}
	for _, p := range arr {
		if p.Text != "" {
			texts = append(texts, p.Text)
		}
	}
	if len(texts) > 0 {
		return strings.Join(texts, "\n")
	}
	return string(raw)
}

// Detected reports whether a verdict counts as a detection.
func Detected(v guard.Verdict) bool {
	return v.Action == guard.ActionFlag || v.Action == guard.ActionRedact || v.Action == guard.ActionBlock
}

// Cell counts a confusion matrix.
type Cell struct{ TP, FP, FN, TN int }

func (c *Cell) add(malicious, detected bool) {
	switch {
	case malicious && detected:
		c.TP++
	case malicious:
		c.FN++
	case detected:
		c.FP++
	default:
		c.TN++
	}
}

// Rows is the number of rows counted.
func (c Cell) Rows() int { return c.TP + c.FP + c.FN + c.TN }

// Key names one table line.
type Key struct{ Folder, Category, Split string }

// Result holds a run's counts.
type Result struct {
	Cells    map[Key]*Cell
	Attack   map[Key]*Cell // tool-outputs by attack_category
	Groups   map[Key]*Cell // benign rows by group (macro FPR)
	Errors   int
	Examples map[Key][]string // a few missed/false ids per key
}

func (res *Result) cell(m map[Key]*Cell, k Key) *Cell {
	c := m[k]
	if c == nil {
		c = &Cell{}
		m[k] = c
	}
	return c
}

// Evaluate judges rows and counts outcomes. A judge error counts as a
// detection miss for malicious rows and is tallied in Errors.
func Evaluate(rows []Row, judge Judge, opt Options) (*Result, error) {
	res := &Result{Cells: map[Key]*Cell{}, Attack: map[Key]*Cell{}, Groups: map[Key]*Cell{}, Examples: map[Key][]string{}}
	for _, r := range rows {
		if opt.Split != "" && r.Split != opt.Split {
			continue
		}
		phase, in, err := ToInput(r, opt.Threshold)
		if err != nil {
			return nil, fmt.Errorf("row %s: %w", r.ID, err)
		}
		if opt.Request && phase != guard.HookToolList {
			phase, in.Hook, in.Output = guard.HookToolRequest, guard.HookToolRequest, nil
		}
		v, err := judge(phase, in)
		if err != nil {
			res.Errors++
		}
		mal := r.Label == "malicious"
		det := err == nil && Detected(v)
		for _, cat := range []string{r.Category, "ALL"} {
			k := Key{r.folder, cat, r.Split}
			res.cell(res.Cells, k).add(mal, det)
			if cat != "ALL" && mal != det && len(res.Examples[k]) < 5 {
				res.Examples[k] = append(res.Examples[k], r.ID)
			}
		}
		if r.AttackCategory != "" {
			res.cell(res.Attack, Key{r.folder, r.AttackCategory, r.Split}).add(mal, det)
		}
		if opt.Explain != nil && mal != det {
			fmt.Fprintf(opt.Explain, "%s %s %s/%s %s score=%.2f %s\n", map[bool]string{true: "FN", false: "FP"}[mal], r.Split, r.folder, r.Category, r.ID, v.Score, reasonCodes(v))
		}
		if !mal {
			g := r.Group
			for _, alt := range []string{r.Page, r.RuleID, r.folder} {
				if g == "" {
					g = alt
				}
			}
			res.cell(res.Groups, Key{r.folder, g, r.Split}).add(mal, det)
			res.cell(res.Cells, Key{"(all benign)", "benign", r.Split}).add(mal, det)
		}
	}
	return res, nil
}

func sortedKeys(m map[Key]*Cell) []Key {
	keys := make([]Key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Split != b.Split {
			return a.Split < b.Split
		}
		if a.Folder != b.Folder {
			return a.Folder < b.Folder
		}
		if (a.Category == "ALL") != (b.Category == "ALL") {
			return b.Category == "ALL"
		}
		return a.Category < b.Category
	})
	return keys
}

// Write prints the main table, the pooled benign FPR per split, the
// macro-averaged FPR over groups, and recall by attack category.
func (res *Result) Write(w io.Writer) {
	fmt.Fprintln(w, "precision, recall and FPR with 95 % Wilson score intervals [lo–hi]")
	fmt.Fprintf(w, "%-20s %-40s %-5s %6s %5s %5s %5s %6s %-21s %-21s %-21s\n", "corpus", "category", "split", "rows", "TP", "FP", "FN", "TN", "precision", "recall", "FPR")
	for _, k := range sortedKeys(res.Cells) {
		c := res.Cells[k]
		fmt.Fprintf(w, "%-20s %-40s %-5s %6d %5d %5d %5d %6d %-21s %-21s %-21s\n", k.Folder, trim(k.Category, 40), k.Split, c.Rows(), c.TP, c.FP, c.FN, c.TN,
			c.Precision(), c.Recall(), c.FPR())
	}
	// Macro FPR: the mean of per-group FPRs, so one big server does not
	// dominate.
	type agg struct {
		sum float64
		n   int
	}
	macro := map[[2]string]*agg{}
	for k, c := range res.Groups {
		a := macro[[2]string{k.Folder, k.Split}]
		if a == nil {
			a = &agg{}
			macro[[2]string{k.Folder, k.Split}] = a
		}
		a.sum += float64(c.FP) / float64(c.FP+c.TN)
		a.n++
	}
	mk := make([][2]string, 0, len(macro))
	for k := range macro {
		mk = append(mk, k)
	}
	sort.Slice(mk, func(i, j int) bool { return mk[i][1]+mk[i][0] < mk[j][1]+mk[j][0] })
	fmt.Fprintln(w)
	fmt.Fprintln(w, "benign FPR macro-averaged over groups (server / page / source):")
	for _, k := range mk {
		a := macro[k]
		fmt.Fprintf(w, "  %-20s %-5s groups=%-5d macro FPR=%.1f%%\n", k[0], k[1], a.n, 100*a.sum/float64(a.n))
	}
	if len(res.Attack) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "tool-outputs recall by attack category:")
		for _, k := range sortedKeys(res.Attack) {
			c := res.Attack[k]
			fmt.Fprintf(w, "  %-5s %-58s %4d/%-4d %s\n", k.Split, trim(k.Category, 58), c.TP, c.TP+c.FN, c.Recall())
		}
	}
	if res.Errors > 0 {
		fmt.Fprintf(w, "\njudge errors: %d\n", res.Errors)
	}
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// DefaultCorpora returns ../shared/corpora relative to the repository root
// (the nearest ancestor of dir holding go.mod).
func DefaultCorpora(dir string) string {
	d, _ := filepath.Abs(dir)
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "..", "shared", "corpora")
		}
		parent := filepath.Dir(d)
		if parent == d {
			return filepath.Join(dir, "..", "shared", "corpora")
		}
		d = parent
	}
}
