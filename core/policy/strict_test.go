package policy

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// strictness orders effects: a decision may never be less strict for an
// ill-shaped argument than for the well-typed one.
var strictness = map[string]int{EffectAllow: 0, EffectRequireApproval: 1, EffectDeny: 2}

func strictIndex(t testing.TB, effect, condition string) *Index {
	return mustIndex(t,
		Rule{ID: "all", Subject: "*", Connector: "pay", Kind: KindTool, Name: "*", Actions: []string{ActCall}, Effect: EffectAllow},
		Rule{ID: "held", Subject: "*", Connector: "pay", Kind: KindTool, Name: "*", Actions: []string{ActCall}, Effect: effect, Condition: condition},
	)
}

func decodeJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestUnevaluableConditionsAreStrict: the review's cases. A deny or
// require-approval rule holds "5000" and [5000] as it holds 5000, and a
// missing, null or wrongly typed argument; the reason says so.
func TestUnevaluableConditionsAreStrict(t *testing.T) {
	tests := []struct {
		condition string
		args      string
		applies   bool
		inReason  string
	}{
		{`args.amount > 1000`, `{"amount":5000}`, true, ""},
		{`args.amount > 1000`, `{"amount":10}`, false, ""},
		{`args.amount > 1000`, `{"amount":"5000"}`, true, "args.amount is a string"},
		{`args.amount > 1000`, `{"amount":"10"}`, true, "compares it as a number"},
		{`args.amount > 1000`, `{"amount":[5000]}`, true, "args.amount is an array"},
		{`args.amount > 1000`, `{"amount":null}`, true, "args.amount is null"},
		{`args.amount > 1000`, `{}`, true, "could not be evaluated"},
		{`args.amount > 1000`, `{"amount":{"v":5000}}`, true, "an object"},
		{`args.env == "prod"`, `{"env":["prod"]}`, true, "args.env is an array"},
		{`args.env == "prod"`, `{"env":"dev"}`, false, ""},
		{`args.env in ["prod", "live"]`, `{"env":true}`, true, "a boolean"},
		{`args.opts.path.under("/etc")`, `{"opts":{"path":["/etc/passwd"]}}`, true, "args.opts.path is an array"},
		{`args["opts"]["path"].under("/etc")`, `{"opts":{"path":7}}`, true, "args.opts.path is a number"},
		{`has(args.amount) && args.amount > 1000`, `{}`, false, ""}, // the author said: only when present
		{`args.amount > 1000 || args.force == true`, `{"amount":5,"force":"true"}`, true, "args.force is a string"},
	}
	for _, effect := range []string{EffectDeny, EffectRequireApproval} {
		for _, tt := range tests {
			t.Run(effect+" "+tt.condition+" "+tt.args, func(t *testing.T) {
				d := strictIndex(t, effect, tt.condition).Decide(Request{Connector: "pay", Kind: KindTool, Name: "refund", Action: ActCall, Args: decodeJSON(t, tt.args)})
				if got := d.Effect == effect; got != tt.applies {
					t.Fatalf("effect %s (%s), want the rule to apply: %v", d.Effect, d.Reason, tt.applies)
				}
				if !strings.Contains(d.Reason, tt.inReason) || (tt.inReason != "") != (d.ConditionError != "") {
					t.Errorf("reason %q / condition error %q, want %q", d.Reason, d.ConditionError, tt.inReason)
				}
			})
		}
	}
	t.Run("an allow rule whose condition cannot be evaluated does not apply", func(t *testing.T) {
		idx := mustIndex(t, Rule{ID: "small", Subject: "*", Connector: "pay", Kind: KindTool, Name: "*", Actions: []string{ActCall}, Effect: EffectAllow, Condition: `args.amount < 1000`})
		for _, a := range []string{`{"amount":"5"}`, `{"amount":[5]}`, `{}`, `{"amount":null}`} {
			if d := idx.Decide(Request{Connector: "pay", Kind: KindTool, Name: "refund", Action: ActCall, Args: decodeJSON(t, a)}); d.Effect != EffectDeny {
				t.Errorf("%s: %s", a, d.Effect)
			}
		}
	})
	t.Run("skipped conditions make strict rules apply and conditional allows not", func(t *testing.T) {
		idx := strictIndex(t, EffectDeny, `args.amount > 1000`)
		d := idx.Decide(Request{Connector: "pay", Kind: KindTool, Name: "refund", Action: ActCall, Args: decodeJSON(t, `{"amount":5}`), SkipConditions: true})
		if d.Effect != EffectDeny || d.ConditionError == "" {
			t.Errorf("%+v", d)
		}
	})
}

// TestConditionStrictnessProperty: for random argument shapes around a
// well-typed value, the effect is never less strict than the one for the
// well-typed argument, for deny and require-approval rules over numbers
// and strings, nested or not.
func TestConditionStrictnessProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 1))
	type ruleCase struct {
		condition string
		path      []string
		typed     func() any
	}
	cases := []ruleCase{
		{`args.amount > 1000`, []string{"amount"}, func() any { return float64(rng.IntN(3000)) }},
		{`args.amount <= 100 || args.amount >= 2000`, []string{"amount"}, func() any { return float64(rng.IntN(3000)) }},
		{`args.env == "prod"`, []string{"env"}, func() any { return []string{"prod", "dev"}[rng.IntN(2)] }},
		{`args.env != "dev"`, []string{"env"}, func() any { return []string{"prod", "dev"}[rng.IntN(2)] }},
		{`args.req.path.under("/etc")`, []string{"req", "path"}, func() any { return []string{"/etc/passwd", "/srv/ok"}[rng.IntN(2)] }},
		{`args.tier in ["gold", "platinum"]`, []string{"tier"}, func() any { return []string{"gold", "free"}[rng.IntN(2)] }},
	}
	shapes := []func(v any) (any, bool){
		func(v any) (any, bool) { return v, true },
		func(v any) (any, bool) { return fmt.Sprint(v), true },
		func(v any) (any, bool) { return []any{v}, true },
		func(v any) (any, bool) { return []any{v, v}, true },
		func(v any) (any, bool) { return map[string]any{"v": v}, true },
		func(v any) (any, bool) { return nil, true },
		func(v any) (any, bool) { return true, true },
		func(v any) (any, bool) { return nil, false }, // missing
	}
	build := func(path []string, v any, present bool) map[string]any {
		root := map[string]any{"other": "x"}
		m := root
		for i, p := range path {
			if i == len(path)-1 {
				if present {
					m[p] = v
				}
				break
			}
			next := map[string]any{}
			m[p], m = next, next
		}
		return root
	}
	for _, effect := range []string{EffectDeny, EffectRequireApproval} {
		for _, rc := range cases {
			idx := strictIndex(t, effect, rc.condition)
			for range 300 {
				v := rc.typed()
				base := idx.Decide(Request{Connector: "pay", Kind: KindTool, Name: "t", Action: ActCall, Args: build(rc.path, v, true)})
				shape := rng.IntN(len(shapes))
				sv, present := shapes[shape](v)
				got := idx.Decide(Request{Connector: "pay", Kind: KindTool, Name: "t", Action: ActCall, Args: build(rc.path, sv, present)})
				if strictness[got.Effect] < strictness[base.Effect] {
					t.Fatalf("%s %q: value %v gives %s, shape %d (%#v, present %v) gives %s (%s)", effect, rc.condition, v, base.Effect, shape, sv, present, got.Effect, got.Reason)
				}
			}
		}
	}
}
