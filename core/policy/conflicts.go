package policy

import (
	"fmt"
	"slices"
)

// Conflicts describes how r collides with others: another rule for the
// same subject whose names and actions overlap r's with a different
// effect (the stronger effect wins: deny, then require-approval, then
// allow), or the same grant twice. Such rules are allowed — deny-wins is
// the model — but an admin writing one likely meant something else, so
// the admin API shows these as warnings. Rules with conditions are
// compared too: a conditional allow under an unconditional deny never
// applies.
func Conflicts(r Rule, others []Rule) []string {
	var out []string
	for _, o := range others {
		if o.ID == r.ID || o.Subject != r.Subject || !overlaps(o.Connector, r.Connector) ||
			!(o.Kind == r.Kind || o.Kind == KindAny || r.Kind == KindAny) || !overlaps(o.Name, r.Name) {
			continue
		}
		shared := sharedActions(r.Actions, o.Actions)
		if len(shared) == 0 {
			continue
		}
		switch {
		case o.Effect == r.Effect && o.Condition == r.Condition && o.Connector == r.Connector && o.Name == r.Name:
			out = append(out, fmt.Sprintf("rule %s already %ss %s the same %v", o.ID, o.Effect, r.Subject, shared))
		case o.Effect != r.Effect:
			winner := o
			if strength(r.Effect) > strength(o.Effect) {
				winner = r
			}
			out = append(out, fmt.Sprintf("conflicts with rule %s (%s) for %s on %v of %s/%s: %s wins, by rule %s",
				o.ID, o.Effect, r.Subject, shared, r.Connector, r.Name, winner.Effect, winner.ID))
		}
	}
	return out
}

// overlaps reports whether two connector or name globs can match the same
// thing: one is "*" or they are equal (finer glob overlap is not judged).
func overlaps(a, b string) bool { return a == "*" || b == "*" || a == b }

func sharedActions(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func strength(effect string) int {
	switch effect {
	case EffectDeny:
		return 3
	case EffectRequireApproval:
		return 2
	default:
		return 1
	}
}
