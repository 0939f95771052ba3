package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Feature is a trivial, content-blind score of one row (higher should
// mean "malicious" if the feature is a confound); ok is false for rows it
// does not apply to.
type Feature struct {
	Folder string
	Name   string
	Score  func(r Row) (v float64, ok bool)
}

// shellMeta are the characters that let one shell word become another
// command (separators, pipes, substitution, redirection, quotes, newline).
const shellMeta = ";|&`$()<>\n\\'\""

// sentCommand is the command string the harness sends for a
// command-injection row (a malicious fragment is appended to a base).
func sentCommand(r Row) string {
	_, in, err := ToInput(r, 0)
	if err != nil {
		return ""
	}
	var a struct {
		Command string `json:"command"`
	}
	_ = json.Unmarshal(in.Arguments, &a)
	return a.Command
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func textOf(r Row) string {
	if r.Text != nil {
		return *r.Text
	}
	return ""
}

func descOf(r Row) (string, bool) {
	if r.Tool == nil {
		return "", false
	}
	return r.Tool.Description, true
}

// Features are the confounds issue 11 names, plus the obvious ones found
// while measuring them (input schema size, output length).
func Features() []Feature {
	return []Feature{
		{"mcp-tools", "description length (chars)", func(r Row) (float64, bool) {
			d, ok := descOf(r)
			return float64(len(d)), ok
		}},
		{"mcp-tools", "description contains \"Args:\"", func(r Row) (float64, bool) {
			d, ok := descOf(r)
			return bool01(strings.Contains(d, "Args:")), ok
		}},
		{"mcp-tools", "inputSchema has no properties", func(r Row) (float64, bool) {
			if r.Tool == nil {
				return 0, false
			}
			var s struct {
				Properties map[string]json.RawMessage `json:"properties"`
			}
			_ = json.Unmarshal(r.Tool.InputSchema, &s)
			return bool01(len(s.Properties) == 0), true
		}},
		{"command-injection", "any shell metacharacter in the raw row", func(r Row) (float64, bool) {
			if r.Text == nil {
				return 0, false
			}
			return bool01(strings.ContainsAny(textOf(r), shellMeta)), true
		}},
		{"command-injection", "any shell metacharacter in the command sent", func(r Row) (float64, bool) {
			if r.Text == nil {
				return 0, false
			}
			return bool01(strings.ContainsAny(sentCommand(r), shellMeta)), true
		}},
		{"command-injection", "command sent starts with a harness base command", func(r Row) (float64, bool) {
			if r.Text == nil {
				return 0, false
			}
			c := sentCommand(r)
			for _, b := range injectionBases {
				if strings.HasPrefix(c, b) {
					return 1, true
				}
			}
			return 0, true
		}},
		{"command-injection", "command sent length (chars)", func(r Row) (float64, bool) {
			if r.Text == nil {
				return 0, false
			}
			return float64(len(sentCommand(r))), true
		}},
		{"secrets", "max Shannon entropy of a token (bits/char)", func(r Row) (float64, bool) {
			if r.Text == nil {
				return 0, false
			}
			return maxTokenEntropy(textOf(r)), true
		}},
		{"secrets", "length (chars)", func(r Row) (float64, bool) {
			if r.Text == nil {
				return 0, false
			}
			return float64(len(textOf(r))), true
		}},
		{"tool-outputs", "output length (chars)", func(r Row) (float64, bool) {
			if r.Call == nil {
				return 0, false
			}
			return float64(len(resultText(r.Call.Result))), true
		}},
	}
}

var tokenSplit = regexp.MustCompile(`[\s"'=:,;]+`)

// maxTokenEntropy is the highest Shannon entropy (bits per character) of
// any token of at least 8 characters.
func maxTokenEntropy(s string) float64 {
	best := 0.0
	for _, tok := range tokenSplit.Split(s, -1) {
		if len(tok) < 8 {
			continue
		}
		var counts [256]int
		for i := 0; i < len(tok); i++ {
			counts[tok[i]]++
		}
		h := 0.0
		for _, c := range counts {
			if c > 0 {
				p := float64(c) / float64(len(tok))
				h -= p * math.Log2(p)
			}
		}
		best = math.Max(best, h)
	}
	return best
}

// ConfoundLine is one feature's AUC on one folder and split.
type ConfoundLine struct {
	Folder, Feature, Split string
	AUC                    AUC
}

// MeasureConfounds computes every feature's AUC per folder and split
// ("all" pools both).
func MeasureConfounds(rows []Row) []ConfoundLine {
	var out []ConfoundLine
	for _, f := range Features() {
		for _, split := range []string{"dev", "test", "all"} {
			var pos, neg []float64
			for _, r := range rows {
				if r.folder != f.Folder || (split != "all" && r.Split != split) {
					continue
				}
				v, ok := f.Score(r)
				if !ok {
					continue
				}
				if r.Label == "malicious" {
					pos = append(pos, v)
				} else {
					neg = append(neg, v)
				}
			}
			if len(pos) > 0 && len(neg) > 0 {
				out = append(out, ConfoundLine{f.Folder, f.Name, split, ComputeAUC(pos, neg)})
			}
		}
	}
	return out
}

// ConfoundCounts are the plain counts behind the command-injection and
// secrets confounds.
type ConfoundCounts struct {
	PayloadsNoMeta     int // malicious command-injection rows with no shell metacharacter
	Payloads           int
	BenignRecon        int // benign shell rows that are bare recon commands (id, whoami, uname -a, …)
	BenignRows         int
	SecretBenign       int // secrets rows labelled benign
	SecretBenignOther  int // … that another gitleaks rule (not their own) matches
	SecretBenignOwn    int // … that their own rule's regex matches
	SecretRulesSkipped int // gitleaks regexes Go could not compile
}

var reconCommands = map[string]bool{"id": true, "whoami": true, "uname -a": true, "uname": true, "hostname": true, "ifconfig": true, "ip addr": true, "cat /etc/passwd": true, "ps aux": true, "netstat -an": true, "env": true, "w": true, "who": true, "ls": true, "pwd": true}

// CountConfounds counts the command-injection and secrets confounds;
// corporaDir/secrets/gitleaks_rules.jsonl supplies the rules (missing
// file: secrets counts stay 0).
func CountConfounds(rows []Row, corporaDir string) ConfoundCounts {
	var c ConfoundCounts
	for _, r := range rows {
		if r.folder != "command-injection" || r.Text == nil {
			continue
		}
		if r.Label == "malicious" {
			c.Payloads++
			if !strings.ContainsAny(*r.Text, shellMeta) {
				c.PayloadsNoMeta++
			}
		} else {
			c.BenignRows++
			if reconCommands[strings.TrimSpace(*r.Text)] {
				c.BenignRecon++
			}
		}
	}
	rules := map[string]*regexp.Regexp{}
	if f, err := os.Open(filepath.Join(corporaDir, "secrets", "gitleaks_rules.jsonl")); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
		for sc.Scan() {
			var rule struct{ ID, Regex string }
			if json.Unmarshal(sc.Bytes(), &rule) != nil || rule.Regex == "" {
				continue
			}
			re, err := regexp.Compile(rule.Regex)
			if err != nil {
				c.SecretRulesSkipped++
				continue
			}
			rules[rule.ID] = re
		}
		f.Close()
	}
	for _, r := range rows {
		if r.folder != "secrets" || r.Label != "benign" || r.Text == nil {
			continue
		}
		c.SecretBenign++
		other := false
		for id, re := range rules {
			if re.MatchString(*r.Text) {
				if id == r.RuleID {
					c.SecretBenignOwn++
				} else {
					other = true
				}
			}
		}
		if other {
			c.SecretBenignOther++
		}
	}
	return c
}

// WriteConfounds prints the AUC table and the counts.
func WriteConfounds(w io.Writer, lines []ConfoundLine, c ConfoundCounts) {
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Folder < lines[j].Folder })
	fmt.Fprintln(w, "AUC of trivial features (1.0 or 0.0 = the feature alone separates the classes; 0.5 = chance), 95 % Hanley–McNeil interval")
	fmt.Fprintf(w, "%-18s %-50s %-5s %6s %6s %s\n", "corpus", "feature", "split", "mal", "benign", "AUC [95 % CI]")
	for _, l := range lines {
		fmt.Fprintf(w, "%-18s %-50s %-5s %6d %6d %.3f [%.3f–%.3f]\n", l.Folder, l.Feature, l.Split, l.AUC.NPos, l.AUC.NNeg, l.AUC.Value, l.AUC.Lo, l.AUC.Hi)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "command-injection: %d of %d payloads contain no shell metacharacter (%s)\n", c.PayloadsNoMeta, c.Payloads, shellMetaLabel)
	fmt.Fprintf(w, "command-injection: %d of %d benign rows are bare recon commands (id, whoami, uname -a, hostname, env, ps aux, …)\n", c.BenignRecon, c.BenignRows)
	fmt.Fprintf(w, "secrets: %d benign rows; %d match their own gitleaks rule's regex (they are that rule's false positives, kept out by entropy/allowlists), %d match another gitleaks rule; %d rule regexes not compilable by Go\n",
		c.SecretBenign, c.SecretBenignOwn, c.SecretBenignOther, c.SecretRulesSkipped)
}

const shellMetaLabel = "; | & ` $ ( ) < > newline \\ ' \""
