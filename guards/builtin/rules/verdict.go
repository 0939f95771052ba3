package rules

import (
	"sort"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// DefaultThreshold is the block threshold used when the host resolves none.
const DefaultThreshold = 0.7

// maxReasons caps the reasons in one verdict so a hostile input cannot
// make the verdict document itself huge.
const maxReasons = 64

// finding is one rule hit before it becomes a guard.Reason.
type finding struct {
	code   string
	weight float64
	msg    string
	tool   string
	path   string
	span   *[2]int
	// secret marks a credential finding; redactable marks one whose span
	// is in the output text, so the host can mask it.
	secret     bool
	redactable bool
}

func spanOf(start, end int) *[2]int { return &[2]int{start, end} }

// score combines findings as 1 - Π(1 - w) over distinct codes, each code
// counted once with its highest weight.
func score(fs []finding) float64 {
	best := map[string]float64{}
	for _, f := range fs {
		if f.weight > best[f.code] {
			best[f.code] = f.weight
		}
	}
	codes := make([]string, 0, len(best))
	for c := range best {
		codes = append(codes, c)
	}
	sort.Strings(codes) // deterministic float rounding
	keep := 1.0
	for _, c := range codes {
		w := best[c]
		if w >= 1 {
			return 1
		}
		keep *= 1 - w
	}
	s := 1 - keep
	if s > 1 {
		s = 1
	}
	return s
}

func threshold(in *guard.Input) float64 {
	if in == nil || in.Sensitivity.Threshold <= 0 {
		return DefaultThreshold
	}
	return in.Sensitivity.Threshold
}

// decide turns findings and a precomputed score into a verdict.
func decide(in *guard.Input, fs []finding, s float64) guard.Verdict {
	if len(fs) == 0 {
		return guard.Allow()
	}
	t := threshold(in)
	reasons := make([]guard.Reason, 0, min(len(fs), maxReasons))
	secretsOnly, allRedactable := true, true
	var reds []guard.Redaction
	for i, f := range fs {
		if i < maxReasons {
			reasons = append(reasons, guard.Reason{Code: f.code, Message: f.msg, Tool: f.tool, Path: f.path, Span: f.span})
		}
		if !f.secret {
			secretsOnly = false
		}
		if f.secret && f.redactable && f.span != nil {
			reds = append(reds, guard.Redaction{Path: f.path, Span: *f.span})
		} else {
			allRedactable = false
		}
	}
	v := guard.Verdict{V: guard.ABIVersion, Action: guard.ActionAllow, Score: round(s), Reasons: reasons}
	switch {
	case s >= t && secretsOnly && allRedactable:
		v.Action = guard.ActionRedact
		v.Redactions = reds
	case s >= t:
		v.Action = guard.ActionBlock
	case s >= t/2:
		v.Action = guard.ActionFlag
	}
	return v
}

// round keeps scores readable and stable across platforms.
func round(s float64) float64 {
	return float64(int(s*10000+0.5)) / 10000
}
