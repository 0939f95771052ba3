package policy

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// Payload conditions are CEL expressions (cel.dev, Google's Common
// Expression Language: a well-kept, sandboxed, linear-time language with
// positioned errors and a type checker) over a tools/call's arguments,
// bound to the variable `args`:
//
//	args.repo.glob("acme/*")
//	args.path.under("/srv/data")
//	args.limit <= 100 && args.env in ["dev", "staging"]
//	args.query.matches("^[a-z ]+$")
//
// Besides CEL's own operators and functions, strings have glob(pattern)
// (path.Match: * does not cross '/') and under(dir) (the cleaned path is
// dir or inside it, so "/srv/data/../etc" is not under "/srv/data").

// ErrCondition is wrapped by every condition error; *ConditionError says
// where.
var ErrCondition = errors.New("invalid condition")

// ConditionError is a condition that does not compile, with the position
// (1-based line and column) of the first problem.
type ConditionError struct {
	Expr         string
	Line, Column int
	Message      string
}

func (e *ConditionError) Error() string {
	return fmt.Sprintf("condition %q: line %d, column %d: %s", e.Expr, e.Line, e.Column, e.Message)
}

// Unwrap makes errors.Is(err, ErrCondition) hold.
func (e *ConditionError) Unwrap() error { return ErrCondition }

// Conditions compiles payload conditions; one environment serves all.
type Conditions struct {
	env *cel.Env
}

// conditionCostLimit bounds one evaluation (CEL's cost units), so a
// condition cannot be made expensive by a huge argument.
const conditionCostLimit = 100000

// NewConditions returns a compiler for payload conditions.
func NewConditions() (*Conditions, error) {
	env, err := cel.NewEnv(
		cel.Variable("args", cel.MapType(cel.StringType, cel.DynType)),
		cel.Function("glob",
			cel.MemberOverload("string_glob_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
				cel.BinaryBinding(func(s, pattern ref.Val) ref.Val {
					ok, err := path.Match(string(pattern.(types.String)), string(s.(types.String)))
					if err != nil {
						return types.NewErr("glob: bad pattern %q: %v", pattern, err)
					}
					return types.Bool(ok)
				}))),
		cel.Function("under",
			cel.MemberOverload("string_under_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
				cel.BinaryBinding(func(p, dir ref.Val) ref.Val {
					return types.Bool(under(string(p.(types.String)), string(dir.(types.String))))
				}))),
	)
	if err != nil {
		return nil, fmt.Errorf("condition environment: %w", err)
	}
	return &Conditions{env: env}, nil
}

// under reports whether p, cleaned, is dir or inside it. Relative paths
// are never under an absolute dir.
func under(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	if p == dir {
		return true
	}
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return strings.HasPrefix(p, dir+"/")
}

// Condition is a compiled payload condition.
type Condition struct {
	src    string
	prg    cel.Program
	expect []expectation // the kinds it compares arguments as
}

// String is the condition's source.
func (c *Condition) String() string { return c.src }

// Compile parses and type-checks expr, which must be a boolean
// expression over args; a typo is a *ConditionError naming its position.
func (cs *Conditions) Compile(expr string) (*Condition, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, &ConditionError{Expr: expr, Line: 1, Column: 1, Message: "empty condition"}
	}
	ast, iss := cs.env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		e := &ConditionError{Expr: expr, Line: 1, Column: 1, Message: iss.Err().Error()}
		if errs := iss.Errors(); len(errs) > 0 {
			first := errs[0]
			e.Message = first.Message
			if loc := first.Location; loc != nil {
				e.Line, e.Column = loc.Line(), loc.Column()+1
			}
		}
		return nil, e
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, &ConditionError{Expr: expr, Line: 1, Column: 1, Message: fmt.Sprintf("a condition must be true or false, this one is %s", ast.OutputType())}
	}
	prg, err := cs.env.Program(ast, cel.CostLimit(conditionCostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, &ConditionError{Expr: expr, Line: 1, Column: 1, Message: err.Error()}
	}
	return &Condition{src: expr, prg: prg, expect: expectations(ast.NativeRep())}, nil
}

// Eval reports whether args satisfy the condition. An argument the
// condition needs but the call lacks, or of another type, does not
// satisfy it: the error says why (for the deny message), and false is
// returned.
func (c *Condition) Eval(args map[string]any) (bool, error) {
	if args == nil {
		args = map[string]any{}
	}
	out, _, err := c.prg.Eval(map[string]any{"args": args})
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", c.src, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("condition %q: not a boolean", c.src)
	}
	return b, nil
}
