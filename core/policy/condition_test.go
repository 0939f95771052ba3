package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestConditions(t *testing.T) {
	cs, err := NewConditions()
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]any{
		"repo": "acme/api", "path": "/srv/data/reports/q3.csv", "limit": 50, "env": "dev",
		"query": "open issues", "tags": []any{"a", "b"}, "force": false,
	}
	tests := []struct {
		name, expr string
		want       bool
	}{
		{"glob matches", `args.repo.glob("acme/*")`, true},
		{"glob does not cross a slash", `args.repo.glob("acme*")`, false},
		{"glob on another org", `args.repo.glob("other/*")`, false},
		{"under its directory", `args.path.under("/srv/data")`, true},
		{"not under a sibling with the same prefix", `args.path.under("/srv/dat")`, false},
		{"under the root", `args.path.under("/")`, true},
		{"numeric bound", `args.limit <= 100`, true},
		{"numeric bound, exceeded", `args.limit < 10`, false},
		{"one of a list", `args.env in ["dev", "staging"]`, true},
		{"not one of a list", `!(args.env in ["prod"])`, true},
		{"regular expression", `args.query.matches("^[a-z ]+$")`, true},
		{"conjunction", `args.repo.glob("acme/*") && args.limit <= 100`, true},
		{"disjunction", `args.env == "prod" || args.force == false`, true},
		{"presence test", `has(args.branch)`, false},
		{"a missing argument does not satisfy", `args.branch == "main"`, false},
		{"a list argument", `"a" in args.tags`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := cs.Compile(tc.expr)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			got, _ := c.Eval(args)
			if got != tc.want {
				t.Errorf("%s = %v, want %v", tc.expr, got, tc.want)
			}
		})
	}
	t.Run("a traversal is not under", func(t *testing.T) {
		c, _ := cs.Compile(`args.path.under("/srv/data")`)
		if ok, _ := c.Eval(map[string]any{"path": "/srv/data/../../etc/passwd"}); ok {
			t.Error("a ../ path escaped")
		}
	})
	t.Run("a missing argument says why", func(t *testing.T) {
		c, _ := cs.Compile(`args.branch == "main"`)
		if ok, err := c.Eval(args); ok || err == nil || !strings.Contains(err.Error(), "branch") {
			t.Errorf("%v %v", ok, err)
		}
	})
}

func TestConditionErrorsNamePositions(t *testing.T) {
	cs, err := NewConditions()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, expr string
		line, col  int
		msg        string
	}{
		{"a typo in the variable", `arg.repo == "x"`, 1, 1, "undeclared reference to 'arg'"},
		{"an unknown function, with a suggestion", `args.repo.globs("acme/*")`, 1, 16, "undeclared reference to 'globs' (did you mean 'glob'?)"},
		{"a syntax error", `args.limit <= `, 1, 15, "Syntax error"},
		{"not a boolean", `args.limit + 1`, 1, 1, "must be true or false"},
		{"wrong argument type", `args.repo.glob(42)`, 1, 15, "found no matching overload for 'glob'"},
		{"empty", `  `, 1, 1, "empty condition"},
		{"second line", "args.repo == \"x\" &&\n  args.limt <", 2, 14, "Syntax error"},
		{"an unknown operator", `args.limit =< 10`, 1, 12, "Syntax error: token recognition error at: '=<'"},
		{"another unknown operator", `args.repo ~= "acme"`, 1, 11, "token recognition error at: '~'"},
		{"an unknown macro", `args.tags.every(t, t == "a")`, 1, 16, "undeclared reference to 'every'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cs.Compile(tc.expr)
			var ce *ConditionError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCondition) {
				t.Fatalf("err %v", err)
			}
			if ce.Line != tc.line || ce.Column != tc.col || !strings.Contains(ce.Message, tc.msg) {
				t.Errorf("got line %d column %d %q, want %d:%d containing %q", ce.Line, ce.Column, ce.Message, tc.line, tc.col, tc.msg)
			}
		})
	}
}

func BenchmarkConditionEval(b *testing.B) {
	cs, _ := NewConditions()
	c, err := cs.Compile(`args.repo.glob("acme/*") && args.path.under("/srv/data") && args.limit <= 100 && args.env in ["dev", "staging"]`)
	if err != nil {
		b.Fatal(err)
	}
	args := map[string]any{"repo": "acme/api", "path": "/srv/data/x", "limit": 50, "env": "dev"}
	for b.Loop() {
		if ok, err := c.Eval(args); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
