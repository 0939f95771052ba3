package pipeline

import (
	"context"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
)

// AnswerGuard inspects an answer from a connector and returns the answer
// to relay (core/toolguard.Engine implements it).
type AnswerGuard interface {
	GuardAnswer(ctx context.Context, c *connector.Connector, req, resp *mcp.Message, rd *toolguard.Reading) (*mcp.Message, toolguard.Outcome)
}

// AnswerGuards is the stage that runs the guards' call chains (Tool Call
// and Tool Intent) on every tools/call, prompts/get and resources/read
// answer before it is relayed: unchanged, masked, or replaced by the
// gateway's block. The outcome on the exchange's own answer is kept for
// the audit record.
type AnswerGuards struct {
	guard AnswerGuard
}

// NewAnswerGuards returns the answer guard stage, or nil without a guard.
func NewAnswerGuards(g AnswerGuard) Stage {
	if g == nil {
		return nil
	}
	return &AnswerGuards{guard: g}
}

// Request does nothing.
func (s *AnswerGuards) Request(context.Context, *Exchange) Step { return Continue() }

// Answer guards a response.
func (s *AnswerGuards) Answer(ctx context.Context, x *Exchange, a *Answer) {
	if a.Msg == nil || x.Connector == nil || !x.Relayed || !toolguard.Guards(x.Request.Method) {
		return
	}
	guarded, out := s.guard.GuardAnswer(ctx, x.Connector, x.Request, a.Msg, &x.Reading)
	a.Msg = guarded
	if a.Final {
		out.Verdicts = append(x.Guarded.Verdicts, out.Verdicts...)
		x.Guarded = out
	}
}
