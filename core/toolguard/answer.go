package toolguard

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/guards/parts"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// Guards reports whether the call chains judge answers to method: tools
// calls, and the prompts and resource contents that reach the model the
// same way.
func Guards(method string) bool {
	switch method {
	case parts.MethodToolsCall, parts.MethodPromptsGet, parts.MethodResourcesRead:
		return true
	}
	return false
}

// watches reports whether any enabled guard judges answers to method.
func (e *Engine) watches(method string) bool {
	if e.Active(guard.HookToolCall) {
		return Guards(method)
	}
	return method == parts.MethodToolsCall && e.Active(guard.HookToolIntent)
}

// GuardAnswer runs the call chains on an answer from connector c to req
// (see Guards) and returns the answer to relay: unchanged, masked in place
// (redact), or the gateway's own JSON-RPC error naming the guard and its
// reason (block; nothing of the upstream's result or error is kept).
// Every string of the answer that reaches the client is judged, an
// upstream error's message and data included. rd, when not nil, is the
// request's Reading from GuardRequest: the params and the arguments'
// scans are not made again.
func (e *Engine) GuardAnswer(ctx context.Context, c *connector.Connector, req, resp *mcp.Message, rd *Reading) (*mcp.Message, Outcome) {
	none := Outcome{Action: guard.ActionAllow}
	if resp == nil || req == nil || resp.Error == nil && len(resp.Result) == 0 || !e.watches(req.Method) {
		return resp, none
	}
	var params callParamsLoose
	// One strict pass reads the params (the arguments decoded, for the
	// guards' rules); anything else is read as before.
	p, strict := rd.callParams(req)
	if strict {
		params.Name, params.URI, params.Arguments = p.name, p.uri, p.args
	} else {
		params = looseParams(req.Params)
	}
	name := params.Name
	if req.Method == parts.MethodResourcesRead {
		name = params.URI
	}
	call := Call{
		Connector: guard.Connector{ID: c.ID, Name: c.Name, Sensitive: c.Advanced.Sensitive},
		Slug:      c.Slug, Method: req.Method, Tool: guard.ToolRef{Name: name},
		Arguments: params.Arguments, Result: resp.Result, RequestID: string(req.ID),
		argsDecoded: p.strict(strict), reading: rd,
	}
	if resp.Error != nil {
		raw, err := json.Marshal(resp.Error)
		if err != nil {
			return blocked(resp, Outcome{Action: guard.ActionBlock, Blocker: "gatehouse", Reason: "the upstream's error could not be read for the guards"})
		}
		call.Result, call.Error = nil, raw
	}
	out, masked := e.CheckCall(ctx, call)
	switch {
	case out.Action == guard.ActionBlock:
		return blocked(resp, out)
	case len(out.Redactions) > 0 && string(masked) != string(call.Result) && string(masked) != string(call.Error):
		m := *resp
		m.Raw = nil
		if resp.Error != nil {
			var e mcp.Error
			if err := json.Unmarshal(masked, &e); err != nil {
				return blocked(resp, Outcome{Action: guard.ActionBlock, Blocker: "gatehouse", Reason: "the masked error could not be encoded"})
			}
			m.Error = &e
		} else {
			m.Result = masked
		}
		return &m, out
	}
	return resp, out
}

// blocked is the gateway's answer to resp when out blocked it.
func blocked(resp *mcp.Message, out Outcome) (*mcp.Message, Outcome) {
	if out.Busy {
		data, _ := json.Marshal(map[string]any{"reason": "busy"})
		return &mcp.Message{JSONRPC: "2.0", ID: resp.ID, Error: &mcp.Error{
			Code:    mcp.CodeGuardBusy,
			Message: "ToolGuard is busy: " + out.Reason,
			Data:    data,
		}}, out
	}
	data, _ := json.Marshal(map[string]any{"guard": out.Blocker, "reason": out.Reason})
	return &mcp.Message{JSONRPC: "2.0", ID: resp.ID, Error: &mcp.Error{
		Code:    mcp.CodeGuardBlocked,
		Message: fmt.Sprintf("blocked by ToolGuard %q: %s", out.Blocker, out.Reason),
		Data:    data,
	}}, out
}

// callParamsLoose are a call's params as encoding/json reads them, for
// params the strict reading refused.
type callParamsLoose struct {
	Name      string          `json:"name"`
	URI       string          `json:"uri"`
	Arguments json.RawMessage `json:"arguments"`
}

// looseParams reads raw the ordinary way (what it cannot read is left
// empty). A function of its own, so that only this path's value goes to
// the heap (a &params in the caller moved it there on every call).
func looseParams(raw json.RawMessage) callParamsLoose {
	var p callParamsLoose
	_ = json.Unmarshal(raw, &p)
	return p
}
