package toolguard

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// GuardAnswer runs the call chains on a tools/call answer from connector
// c and returns the answer to relay: unchanged, masked (redact), or a
// JSON-RPC error naming the guard and its reason (block). Errors from the
// upstream and calls no guard watches pass untouched.
func (e *Engine) GuardAnswer(ctx context.Context, c *connector.Connector, req, resp *mcp.Message) (*mcp.Message, Outcome) {
	none := Outcome{Action: guard.ActionAllow}
	if resp == nil || resp.Error != nil || len(resp.Result) == 0 || !(e.Active(guard.HookToolCall) || e.Active(guard.HookToolIntent)) {
		return resp, none
	}
	var params struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	_ = json.Unmarshal(req.Params, &params)
	call := Call{
		Connector: guard.Connector{ID: c.ID, Name: c.Name, Sensitive: c.Advanced.Sensitive},
		Slug:      c.Slug, Tool: guard.ToolRef{Name: params.Name},
		Arguments: params.Arguments, Result: resp.Result, RequestID: string(req.ID),
	}
	out, result := e.CheckCall(ctx, call)
	switch out.Action {
	case guard.ActionBlock:
		data, _ := json.Marshal(map[string]any{"guard": out.Blocker, "reason": out.Reason})
		return &mcp.Message{JSONRPC: "2.0", ID: resp.ID, Error: &mcp.Error{
			Code:    mcp.CodeGuardBlocked,
			Message: fmt.Sprintf("blocked by ToolGuard %q: %s", out.Blocker, out.Reason),
			Data:    data,
		}}, out
	case guard.ActionRedact:
		m := *resp
		m.Result, m.Raw = result, nil
		return &m, out
	}
	return resp, out
}
