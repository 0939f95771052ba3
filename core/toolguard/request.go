package toolguard

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// ToolDescriptions finds the description a connector's tool declared
// (as the gateway last listed it), for the pre-call envelope: the
// request itself names the tool only. Pins implements it.
type ToolDescriptions interface {
	Description(ctx context.Context, c *connector.Connector, tool string) string
}

// SetToolDescriptions sets where GuardRequest finds tools' descriptions.
func (e *Engine) SetToolDescriptions(d ToolDescriptions) {
	e.mu.Lock()
	e.describe = d
	e.mu.Unlock()
}

// Request is a tools/call about to go upstream, as the pre-call guards
// see it (no principal: the guards judge what the call does, not who).
type Request struct {
	Connector guard.Connector
	Slug      string
	Tool      guard.ToolRef
	Arguments json.RawMessage
	RequestID string
}

// CheckRequest runs the tool_request chain (ABI 1.2: every enabled guard
// exporting gh_tool_request, in chain order; the built-in Tool Call and
// Tool Intent guards do) on a call before the upstream runs it. Native
// rules, the verdict cache (keyed by the hook), fail mode and busy
// handling are the answer phases'.
func (e *Engine) CheckRequest(ctx context.Context, r Request) Outcome {
	return e.checkRequest(ctx, r, strictArgs{}, nil)
}

// checkRequest is CheckRequest; with decoded, r.Arguments' strict
// decoding (readCallParams), when there is one, which is then not made
// again. The arguments
// are decoded once for the phase: for the guests' validity and for every
// built-in guard's rules.
func (e *Engine) checkRequest(ctx context.Context, r Request, decoded strictArgs, rd *Reading) Outcome {
	args := r.Arguments
	if len(args) == 0 {
		args, decoded = json.RawMessage(`{}`), strictArgs{text: `{}`, v: map[string]any{}}
	}
	// The input and the tool it points at in one allocation (a &r.Tool
	// moved all of r to the heap).
	ph := &requestPhase{tool: r.Tool}
	in := &ph.in
	*in = guard.Input{RequestID: r.RequestID, Method: mcp.MethodToolsCall, Connector: r.Connector, Tool: &ph.tool, Arguments: args}
	out := e.run(ctx, guard.HookToolRequest, in, r.Slug, lazy{view: rd.rulesView()}.withArguments(args, decoded))
	if out.Action == guard.ActionRedact {
		// An argument cannot be masked without changing what the call
		// does: a redaction before the call is a block.
		out.Action, out.Redactions = guard.ActionBlock, nil
		out.Blocker, out.Reason = "gatehouse", "a guard asked to redact an argument, which cannot be masked before the call"
		for _, f := range out.Findings {
			if f.Action == guard.ActionRedact {
				out.Blocker, out.Reason = f.Guard, f.Message+" (a redaction before the call blocks it)"
				break
			}
		}
	}
	return out
}

// GuardRequest implements pipeline.RequestGuard: it runs the pre-call
// guards on a tools/call to connector c (what it reads of req is kept in
// rd, when not nil, for the answer phase: GuardAnswer with the same rd)
// and returns nil to let it go on,
// or the gateway's error refusing it (−31056 naming the guard and its
// reason; −31061 when the guards were too busy to judge), with the
// outcome either way. Nothing has run upstream when it refuses.
func (e *Engine) GuardRequest(ctx context.Context, c *connector.Connector, req *mcp.Message, rd *Reading) (*mcp.Error, Outcome) {
	none := Outcome{Action: guard.ActionAllow}
	if c == nil || req == nil || req.Method != mcp.MethodToolsCall || !e.Active(guard.HookToolRequest) {
		return nil, none
	}
	var params callParamsLoose
	// One strict pass reads the name and the arguments (decoded, and
	// valid for the guests); anything else is read as before.
	p, strict := rd.callParams(req)
	var err error
	if strict {
		params.Name, params.Arguments = p.name, p.args
	} else if params, err = readParamsLoose(req.Params); err != nil {
		// What the guards cannot read does not go upstream unread.
		out := Outcome{Action: guard.ActionBlock, Blocker: "gatehouse", Reason: "the call's parameters could not be read for the guards: " + err.Error()}
		return refusal(out), out
	}
	e.mu.RLock()
	describe := e.describe
	e.mu.RUnlock()
	tool := guard.ToolRef{Name: params.Name}
	if describe != nil {
		tool.Description = describe.Description(ctx, c, params.Name)
	}
	out := e.checkRequest(ctx, Request{
		Connector: guard.Connector{ID: c.ID, Name: c.Name, Sensitive: c.Advanced.Sensitive},
		Slug:      c.Slug, Tool: tool, Arguments: params.Arguments, RequestID: string(req.ID),
	}, p.strict(strict), rd)
	if out.Action == guard.ActionBlock {
		return refusal(out), out
	}
	return nil, out
}

// refusal is the gateway's error for a request the pre-call guards
// blocked; data.phase says the upstream never saw the call.
func refusal(out Outcome) *mcp.Error {
	if out.Busy {
		data, _ := json.Marshal(map[string]any{"reason": "busy", "phase": "request"})
		return &mcp.Error{Code: mcp.CodeGuardBusy, Message: "ToolGuard is busy: " + out.Reason + " (the call did not run)", Data: data}
	}
	data, _ := json.Marshal(map[string]any{"guard": out.Blocker, "reason": out.Reason, "phase": "request"})
	return &mcp.Error{Code: mcp.CodeGuardBlocked, Message: fmt.Sprintf("blocked by ToolGuard %q before the call ran: %s", out.Blocker, out.Reason), Data: data}
}

// readParamsLoose is looseParams with encoding/json's error.
func readParamsLoose(raw json.RawMessage) (callParamsLoose, error) {
	var p callParamsLoose
	err := json.Unmarshal(raw, &p)
	return p, err
}

// requestPhase is what checkRequest keeps on the heap: the chain's input
// and the tool it points at.
type requestPhase struct {
	in   guard.Input
	tool guard.ToolRef
}
