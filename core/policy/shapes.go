package policy

import (
	"fmt"
	"strings"

	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// valueKind is the JSON kind a condition expects an argument to have.
type valueKind string

const (
	kindNumber valueKind = "a number"
	kindString valueKind = "a string"
	kindBool   valueKind = "a boolean"
)

// expectation: the condition compares the argument at path (args.a.b →
// ["a", "b"]) as kind.
type expectation struct {
	path []string
	kind valueKind
}

// stringMethods take a string target.
var stringMethods = map[string]bool{"glob": true, "under": true, "matches": true, "startsWith": true, "endsWith": true, "contains": true}

// comparisons are the operators whose operands a literal gives a kind.
var comparisons = map[string]bool{
	operators.Equals: true, operators.NotEquals: true, operators.Less: true, operators.LessEquals: true,
	operators.Greater: true, operators.GreaterEquals: true,
}

// expectations reads, from a checked condition, which arguments it
// compares as what: `args.amount > 1000` expects a number at amount,
// `args.env in ["dev"]` a string at env, `args.path.under("/srv")` a
// string at path. CEL compares values of different kinds as unequal
// without an error, so `args.env == "prod"` is silently false for
// ["prod"]: a strict rule checks these kinds itself (mismatch).
func expectations(a *celast.AST) []expectation {
	var out []expectation
	celast.PreOrderVisit(a.Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() != celast.CallKind {
			return
		}
		call := e.AsCall()
		fn, args := call.FunctionName(), call.Args()
		switch {
		case call.IsMemberFunction() && stringMethods[fn]:
			if p, ok := argPath(call.Target()); ok {
				out = append(out, expectation{p, kindString})
			}
		case comparisons[fn] && len(args) == 2:
			for i := range 2 {
				if p, ok := argPath(args[i]); ok {
					if k, ok := literalKind(args[1-i]); ok {
						out = append(out, expectation{p, k})
					}
				}
			}
		case fn == operators.In && len(args) == 2:
			p, ok := argPath(args[0])
			if !ok || args[1].Kind() != celast.ListKind {
				return
			}
			for _, el := range args[1].AsList().Elements() {
				if k, ok := literalKind(el); ok {
					out = append(out, expectation{p, k})
					return
				}
			}
		}
	}))
	return out
}

// argPath returns the argument path of args.a.b or args["a"]["b"].
func argPath(e celast.Expr) ([]string, bool) {
	var rev []string
	for {
		switch e.Kind() {
		case celast.IdentKind:
			if e.AsIdent() != "args" || len(rev) == 0 {
				return nil, false
			}
			path := make([]string, len(rev))
			for i, s := range rev {
				path[len(rev)-1-i] = s
			}
			return path, true
		case celast.SelectKind:
			sel := e.AsSelect()
			if sel.IsTestOnly() {
				return nil, false
			}
			rev = append(rev, sel.FieldName())
			e = sel.Operand()
		case celast.CallKind:
			call := e.AsCall()
			if call.FunctionName() != operators.Index || len(call.Args()) != 2 || call.Args()[1].Kind() != celast.LiteralKind {
				return nil, false
			}
			key, ok := call.Args()[1].AsLiteral().(types.String)
			if !ok {
				return nil, false
			}
			rev = append(rev, string(key))
			e = call.Args()[0]
		default:
			return nil, false
		}
	}
}

// literalKind is the JSON kind of a literal, if it has one.
func literalKind(e celast.Expr) (valueKind, bool) {
	if e.Kind() != celast.LiteralKind {
		return "", false
	}
	switch e.AsLiteral().(type) {
	case types.Int, types.Uint, types.Double:
		return kindNumber, true
	case types.String:
		return kindString, true
	case types.Bool:
		return kindBool, true
	}
	return "", false
}

// mismatch returns why an argument the condition compares has another
// kind than it compares it as ("" when none has). A missing argument is
// not a mismatch: evaluating the condition on it fails, unless the
// condition tests for it with has().
func (c *Condition) mismatch(args map[string]any) string {
	for _, ex := range c.expect {
		v, present := lookupPath(args, ex.path)
		if !present {
			continue
		}
		if k := kindOf(v); k != ex.kind {
			return fmt.Sprintf("args.%s is %s, and the condition compares it as %s", strings.Join(ex.path, "."), k, ex.kind)
		}
	}
	return ""
}

func lookupPath(args map[string]any, path []string) (any, bool) {
	var v any = args
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[p]; !ok {
			return nil, false
		}
	}
	return v, true
}

// kindOf names a decoded JSON value's kind.
func kindOf(v any) valueKind {
	switch v.(type) {
	case nil:
		return "null"
	case float64, int, int64:
		return kindNumber
	case string:
		return kindString
	case bool:
		return kindBool
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return valueKind(fmt.Sprintf("%T", v))
}
