package train

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/guards/builtin/model"
	"github.com/gatehouse-mcp/gatehouse/guards/builtin/rules"
	"github.com/gatehouse-mcp/gatehouse/guards/eval"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// Job is one model to train: its weights file name, configuration and
// the examples of a split.
type Job struct {
	Name     string
	Config   Config
	Examples func(rows []eval.Row, split string) []Example
}

// Seed is the seed of every run.
const Seed = 20261203

// Jobs are the built-in models, in training order.
func Jobs() []Job {
	return []Job{
		{Name: model.ToolPoisoning, Config: Config{Kind: model.KindWords, Bits: 18, Epochs: 10, Rate: 0.5, L2: 1e-6, Seed: Seed, Folds: 5, TargetFPR: 0.01},
			Examples: func(rows []eval.Row, split string) []Example {
				ex := ToolExamples(rows, split)
				if split == "dev" {
					ex = WithDocs(rows, split, ex)
				}
				return ex
			}},
		{Name: model.CommandInjection, Config: Config{Kind: model.KindChars, Bits: 17, Epochs: 20, Rate: 0.5, L2: 1e-6, Seed: Seed, Folds: 5, TargetFPR: 0.01},
			Examples: func(rows []eval.Row, split string) []Example { return CommandExamples(rows, split, Seed) }},
	}
}

// WriteReport prints the model's test-split figures and confound
// checks. Nothing here feeds back into training.
func WriteReport(w io.Writer, job Job, m *model.Model, rows []eval.Row) {
	test := job.Examples(rows, "test")
	scores := make([]float64, len(test))
	for i, e := range test {
		scores[i] = m.Score(e.Text)
	}
	t := float64(m.Threshold)
	line := func(label string, keep func(i int) bool) {
		var pos, neg []float64
		var c eval.Cell
		for i, e := range test {
			if !keep(i) {
				continue
			}
			hit := scores[i] >= t
			switch {
			case e.Malicious && hit:
				c.TP++
			case e.Malicious:
				c.FN++
			case hit:
				c.FP++
			default:
				c.TN++
			}
			if e.Malicious {
				pos = append(pos, scores[i])
			} else {
				neg = append(neg, scores[i])
			}
		}
		a := eval.ComputeAUC(pos, neg)
		fmt.Fprintf(w, "  test %-52s mal %4d ben %5d  AUC %.3f [%.3f–%.3f]  recall %s  FPR %s\n", label, len(pos), len(neg), a.Value, a.Lo, a.Hi, c.Recall(), c.FPR())
	}
	all := func(int) bool { return true }
	line("all (model alone)", all)
	prefixes := map[string]bool{}
	for _, e := range test {
		if e.Malicious {
			prefixes[strings.SplitN(e.Group, ":", 2)[0]] = true
		}
	}
	ps := make([]string, 0, len(prefixes))
	for p := range prefixes {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	for _, p := range ps {
		line("malicious from "+p+" vs all benign", func(i int) bool {
			return !test[i].Malicious || strings.HasPrefix(test[i].Group, p+":")
		})
	}
	// Confound checks: the model on subsets where the confounds cannot
	// separate the classes.
	matched := lengthMatched(test)
	lens := func() (pos, neg []float64) {
		for i := range test {
			if matched[i] {
				if test[i].Malicious {
					pos = append(pos, float64(len(test[i].Text)))
				} else {
					neg = append(neg, float64(len(test[i].Text)))
				}
			}
		}
		return
	}
	lp, ln := lens()
	la := eval.ComputeAUC(lp, ln)
	line(fmt.Sprintf("length-matched pairs (length alone AUC %.3f)", la.Value), func(i int) bool { return matched[i] })
	if job.Config.Kind == model.KindWords {
		line("rows without \"Args:\"", func(i int) bool { return !strings.Contains(test[i].Text, "Args:") })
	}
	if job.Config.Kind == model.KindChars {
		line("payloads without shell metacharacters vs all benign", func(i int) bool {
			return !test[i].Malicious || !strings.ContainsAny(payloadOf(test[i]), ";|&`$()<>\n\\'\"")
		})
		writeCombined(w, test)
	}
}

// writeCombined prints the built-in Tool Call Guard (rules OR model, as
// shipped) on the command examples of the test split — payloads after
// tldr test commands, not the harness's bases — beside the rules alone.
func writeCombined(w io.Writer, test []Example) {
	var both, rulesOnly eval.Cell
	for _, e := range test {
		args, _ := json.Marshal(map[string]string{"command": e.Text})
		in := &guard.Input{V: guard.ABIVersion, Hook: guard.HookToolCall, Tool: &guard.ToolRef{Name: "run_command", Description: "Run a shell command in the user's terminal and return its output."}, Arguments: args, Output: &guard.Output{}}
		v := rules.ToolCall(in)
		hit := eval.Detected(v)
		// Every rule weight flags alone, so a verdict with a finding
		// other than the model's is one the rules make without it.
		ruleHit := false
		for _, r := range v.Reasons {
			ruleHit = ruleHit || hit && r.Code != "command-injection:model"
		}
		count(&both, e.Malicious, hit)
		count(&rulesOnly, e.Malicious, ruleHit)
	}
	fmt.Fprintf(w, "  test %-52s recall %s  FPR %s\n", "Tool Call Guard, rules OR model (tldr bases)", both.Recall(), both.FPR())
	fmt.Fprintf(w, "  test %-52s recall %s  FPR %s\n", "… rows some rule flags (tldr bases)", rulesOnly.Recall(), rulesOnly.FPR())
}

func count(c *eval.Cell, malicious, hit bool) {
	switch {
	case malicious && hit:
		c.TP++
	case malicious:
		c.FN++
	case hit:
		c.FP++
	default:
		c.TN++
	}
}

// payloadOf is the text of a command example (base and payload are not
// separable after Join; the metacharacter check on the whole is what the
// feature measures).
func payloadOf(e Example) string { return e.Text }

// lengthMatched pairs every malicious example with the unused benign
// example nearest in text length (greedy, in length order), so length
// alone cannot separate the matched subset.
func lengthMatched(ex []Example) []bool {
	var mal, ben []int
	for i, e := range ex {
		if e.Malicious {
			mal = append(mal, i)
		} else {
			ben = append(ben, i)
		}
	}
	byLen := func(ix []int) {
		sort.SliceStable(ix, func(a, b int) bool { return len(ex[ix[a]].Text) < len(ex[ix[b]].Text) })
	}
	byLen(mal)
	byLen(ben)
	used := make([]bool, len(ben))
	out := make([]bool, len(ex))
	for _, i := range mal {
		best, bestD := -1, 0
		for j, b := range ben {
			if used[j] {
				continue
			}
			d := len(ex[b].Text) - len(ex[i].Text)
			if d < 0 {
				d = -d
			}
			if best < 0 || d < bestD {
				best, bestD = j, d
			}
		}
		if best < 0 {
			break
		}
		used[best] = true
		out[i], out[ben[best]] = true, true
	}
	return out
}
