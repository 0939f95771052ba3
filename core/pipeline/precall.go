package pipeline

import (
	"context"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
)

// RequestGuard judges a tools/call before the upstream runs it: the
// guards' pre-call phase (the gh_tool_request hook, ABI 1.2;
// toolguard.Engine implements it). It returns nil to let the call go on,
// or the gateway's error refusing it, with the guards' outcome either way.
type RequestGuard interface {
	GuardRequest(ctx context.Context, c *connector.Connector, req *mcp.Message, rd *toolguard.Reading) (*mcp.Error, toolguard.Outcome)
}

// PreCall is the stage that runs the pre-call guards on a tools/call, so
// an injected command, a secret or an exfiltration URL in an argument is
// blocked before anything executes. Its verdicts join the answer guards'
// in the audit record.
type PreCall struct {
	guard RequestGuard
}

// NewPreCall returns the pre-call guard stage over g when g implements
// RequestGuard (the guard engine does), else nil.
func NewPreCall(g any) Stage {
	rg, ok := g.(RequestGuard)
	if !ok || rg == nil {
		return nil
	}
	return &PreCall{guard: rg}
}

// Request refuses a call the pre-call guards block.
func (s *PreCall) Request(ctx context.Context, x *Exchange) Step {
	if x.Connector == nil || !x.IsCall() {
		return Continue()
	}
	refused, out := s.guard.GuardRequest(ctx, x.Connector, x.Request, &x.Reading)
	x.Guarded.Verdicts = append(x.Guarded.Verdicts, out.Verdicts...)
	if refused != nil {
		x.Guarded.Action, x.Guarded.Blocker, x.Guarded.Reason = out.Action, out.Blocker, out.Reason
		return Refuse(refused)
	}
	return Continue()
}

// Answer does nothing.
func (s *PreCall) Answer(context.Context, *Exchange, *Answer) {}
