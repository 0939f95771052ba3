package toolsearch

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// The meta-tools' names. They hold no "__", so on the aggregate endpoint
// (where every real tool is "{connector}__{tool}") they cannot collide
// with a real tool; on /mcp/{connector} an upstream tool of the same name
// is shadowed in tools/call and reached through call_tool, which always
// names the real tool.
const (
	SearchName = "search_tools"
	CallName   = "call_tool"
)

// Result sizes of search_tools: the default and the most one search may
// ask for.
const (
	DefaultLimit = 5
	MaxLimit     = 20
)

// MaxQueryBytes bounds a search query.
const MaxQueryBytes = 1024

var errNoName = errors.New("a tool without a name")

// metaTools is the tools/list result offered instead of the full list.
var metaTools = json.RawMessage(`{"tools":[` +
	`{"name":"` + SearchName + `","title":"Search tools","description":"Find the tools you may use by what they do. Give a few words describing the task (e.g. \"create a github issue\"); returns the best-matching tools, best first, each with its name, description and input schema. Then call one with ` + CallName + `.",` +
	`"inputSchema":{"type":"object","properties":{"query":{"type":"string","description":"words describing the task"},"limit":{"type":"integer","minimum":1,"maximum":20,"description":"how many tools to return (default 5)"}},"required":["query"],"additionalProperties":false}},` +
	`{"name":"` + CallName + `","title":"Call a tool","description":"Call a tool found with ` + SearchName + `: its exact name and its arguments, as its input schema describes them. The call is checked and recorded exactly as a direct call of that tool.",` +
	`"inputSchema":{"type":"object","properties":{"name":{"type":"string","description":"the tool's name as search_tools returned it"},"arguments":{"type":"object","description":"the tool's arguments"}},"required":["name"],"additionalProperties":false}}` +
	`]}`)

// ListResult is the tools/list result of an endpoint with tool search on:
// the two meta-tools.
func ListResult() json.RawMessage { return metaTools }

// SearchArgs are search_tools' arguments.
type SearchArgs struct {
	Query string
	Limit int
}

// ArgumentError is a meta-tool call whose arguments are wrong: the caller
// gets it as a tool error (isError), as for any tool's invalid arguments,
// so the model can correct itself.
type ArgumentError struct{ Msg string }

func (e *ArgumentError) Error() string { return e.Msg }

func badArgs(format string, args ...any) error {
	return &ArgumentError{Msg: fmt.Sprintf(format, args...)}
}

// callParams is a tools/call's params as the meta-tools read them.
type callParams struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// arguments decodes the arguments object of a tools/call's params.
func arguments(params json.RawMessage) (map[string]json.RawMessage, error) {
	var p callParams
	if err := json.Unmarshal(params, &p); err != nil {
		return nil, badArgs("params must be an object: %v", err)
	}
	args := map[string]json.RawMessage{}
	if len(p.Arguments) == 0 || string(p.Arguments) == "null" {
		return args, nil
	}
	if err := json.Unmarshal(p.Arguments, &args); err != nil {
		return nil, badArgs("arguments must be an object")
	}
	return args, nil
}

// ParseSearch reads search_tools' arguments from a tools/call's params.
func ParseSearch(params json.RawMessage) (SearchArgs, error) {
	args, err := arguments(params)
	if err != nil {
		return SearchArgs{}, err
	}
	for k := range args {
		if k != "query" && k != "limit" {
			return SearchArgs{}, badArgs("%s takes query and limit; %q is not an argument of it", SearchName, k)
		}
	}
	out := SearchArgs{Limit: DefaultLimit}
	raw, ok := args["query"]
	if !ok {
		return SearchArgs{}, badArgs("%s needs a query: a few words describing the task", SearchName)
	}
	if err := json.Unmarshal(raw, &out.Query); err != nil {
		return SearchArgs{}, badArgs("query must be a string")
	}
	if strings.TrimSpace(out.Query) == "" {
		return SearchArgs{}, badArgs("query is empty: give a few words describing the task")
	}
	if len(out.Query) > MaxQueryBytes {
		return SearchArgs{}, badArgs("query is %d bytes; at most %d", len(out.Query), MaxQueryBytes)
	}
	if raw, ok := args["limit"]; ok {
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil || f != float64(int(f)) || f < 1 || f > MaxLimit {
			return SearchArgs{}, badArgs("limit must be a whole number from 1 to %d", MaxLimit)
		}
		out.Limit = int(f)
	}
	return out, nil
}

// RealCall turns a call_tool request into the tools/call of the tool it
// names: the same id, the named tool's arguments, the request's _meta
// (progress token) kept. The endpoint sends it down its normal call path,
// so every stage of the chain (held tools, policy, validation,
// approvals, guards, audit) sees the real tool.
func RealCall(req *mcp.Message) (*mcp.Message, error) {
	var params map[string]json.RawMessage
	if err := json.Unmarshal(req.Params, &params); err != nil {
		return nil, badArgs("params must be an object")
	}
	args, err := arguments(req.Params)
	if err != nil {
		return nil, err
	}
	for k := range args {
		if k != "name" && k != "arguments" {
			return nil, badArgs("%s takes name and arguments; %q is not an argument of it", CallName, k)
		}
	}
	var name string
	if raw, ok := args["name"]; !ok || json.Unmarshal(raw, &name) != nil || name == "" {
		return nil, badArgs("%s needs name: the tool's name as %s returned it", CallName, SearchName)
	}
	if name == CallName || name == SearchName {
		return nil, badArgs("%s calls a real tool, not %q", CallName, name)
	}
	inner := json.RawMessage(`{}`)
	if raw, ok := args["arguments"]; ok && string(raw) != "null" {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil, badArgs("arguments must be an object")
		}
		inner = raw
	}
	params["name"], _ = json.Marshal(name)
	params["arguments"] = inner
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	return &mcp.Message{JSONRPC: "2.0", ID: req.ID, Method: mcp.MethodToolsCall, Params: raw}, nil
}

// SearchResult is search_tools' tools/call result: the hits' definitions,
// best first, as structured content and as text (for clients that read
// only text).
func SearchResult(args SearchArgs, hits []Hit) (json.RawMessage, error) {
	tools := make([]json.RawMessage, len(hits))
	for i, h := range hits {
		tools[i] = h.Tool.Definition
	}
	text, err := json.Marshal(tools)
	if err != nil {
		return nil, err
	}
	msg := string(text)
	if len(hits) == 0 {
		msg = fmt.Sprintf("No tool you may use matches %q; try other words.", args.Query)
	}
	return json.Marshal(map[string]any{
		"content":           []map[string]any{{"type": "text", "text": msg}},
		"structuredContent": map[string]any{"tools": tools},
	})
}

// ToolError is a tools/call result with isError set and msg as its text.
func ToolError(msg string) json.RawMessage {
	out, _ := json.Marshal(map[string]any{
		"content": []map[string]any{{"type": "text", "text": msg}},
		"isError": true,
	})
	return out
}
