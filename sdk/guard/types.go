// Package guard is the Go SDK for ToolGuard modules, and the one
// definition of the JSON documents that cross the ABI (guards/ABI.md): the
// host (guards/host) and guest guards share these types.
//
// A guard is a WebAssembly module built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o guard.wasm .
//
// whose main package registers its hooks:
//
//	func init() {
//		guard.Register(guard.Hooks{
//			ToolCall: func(in *guard.Input) guard.Verdict {
//				if strings.Contains(in.Output.Text, "AKIA") {
//					return guard.Block(0.9, guard.Reason{Code: "aws-key", Message: "an AWS key leaves"})
//				}
//				return guard.Allow()
//			},
//		})
//	}
//	func main() {}
//
// A ToolRequest hook runs before the upstream does (ABI 1.2), on the
// tool's name, description and arguments, so a block stops the call
// before anything executes:
//
//	ToolRequest: func(in *guard.Input) guard.Verdict {
//		if bytes.Contains(in.Arguments, []byte("| sh")) {
//			return guard.Block(0.9, guard.Reason{Code: "pipe-to-shell", Message: "an argument pipes into a shell", Path: "/arguments"})
//		}
//		return guard.Allow()
//	},
package guard

import "encoding/json"

// ABIVersion is the major version of the ABI these types describe.
const ABIVersion = 1

// ABIMinor is the minor version: optional additions a v1 host may use.
// 1.1 added Input.Method and Output.Parts; 1.2 added the pre-call hook
// (HookToolRequest, export gh_tool_request); 1.3 added Input.Known.
const ABIMinor = 3

// Hook names, as in the input envelope and the exported function names
// (gh_<hook>).
const (
	HookToolList   = "tool_list"
	HookToolCall   = "tool_call"
	HookToolIntent = "tool_intent"
	// HookToolRequest (ABI 1.2) judges a tools/call before the upstream
	// runs it: the input has Tool and Arguments, no Output. A module
	// without the gh_tool_request export is simply not run pre-call.
	HookToolRequest = "tool_request"
)

// Actions a verdict may take, weakest first.
const (
	ActionAllow  = "allow"
	ActionFlag   = "flag"
	ActionRedact = "redact"
	ActionBlock  = "block"
)

// Input is the envelope the host passes to a hook.
type Input struct {
	V           int         `json:"v"`
	Hook        string      `json:"hook"`
	RequestID   string      `json:"request_id,omitempty"`
	Connector   Connector   `json:"connector"`
	Sensitivity Sensitivity `json:"sensitivity"`
	// Tools is set for tool_list: the definitions to scan.
	Tools []Tool `json:"tools,omitempty"`
	// Known is set for tool_list (ABI 1.3): tools already in the gateway's
	// view that are not being judged — the connector's other tools and the
	// approved tools of its other active connectors — so that a guard can
	// judge Tools against them (a new tool that imitates one, or outranks
	// it by its name). A guard judges Tools only, never Known.
	Known []KnownTool `json:"known_tools,omitempty"`
	// Method is the request the output answers (ABI 1.1): tools/call, or
	// prompts/get and resources/read, whose answers the tool_call chain
	// also judges (Tool then names the prompt or the resource URI).
	Method string `json:"method,omitempty"`
	// Tool, Arguments and Output are set for tool_call and tool_intent;
	// tool_request has Tool and Arguments only (the call has not run).
	Tool      *ToolRef        `json:"tool,omitempty"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	Output    *Output         `json:"output,omitempty"`
	// Truncated says the host cut the envelope to its size cap.
	Truncated bool `json:"truncated,omitempty"`
}

// KnownTool names a tool in view (Input.Known) and its connector.
type KnownTool struct {
	Connector string `json:"connector"` // the connector's name
	Name      string `json:"name"`
}

// Connector identifies the connector the input comes from.
type Connector struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// Sensitivity is resolved by the host (per-connector override, else the
// global setting): the level's name and the score at which a finding
// becomes a block.
type Sensitivity struct {
	Level     string  `json:"level"`
	Threshold float64 `json:"threshold"`
}

// Tool is one tool definition (tool_list).
type Tool struct {
	Name         string          `json:"name"`
	Title        string          `json:"title,omitempty"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"inputSchema,omitempty"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	Annotations  json.RawMessage `json:"annotations,omitempty"`
	// PinnedHash is the hash of the definition an admin approved, if any.
	PinnedHash string `json:"pinned_hash,omitempty"`
}

// ToolRef names the tool a call went to, with its declared purpose.
type ToolRef struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Output is an answer as it reaches the client: a tools/call result's
// content as the upstream sent it, and Text, every string of the answer
// the client receives joined with newlines (what most scanners want).
//
// Text starts with a tools/call result's text items, in order (all it held
// before ABI 1.1), and goes on with every other part: structuredContent,
// embedded resources, resource links, an upstream error's message and
// data, prompt messages, resource contents. Parts says where each piece of
// Text comes from; a guard that scans Text scans all of them, and the host
// masks a redacted span of Text wherever that text is in the answer.
type Output struct {
	Content json.RawMessage `json:"content,omitempty"`
	Text    string          `json:"text"`
	// Parts locates every piece of Text in the answer (ABI 1.1). A string
	// the answer holds more than once is in Text once, and its parts
	// share one span.
	Parts []Part `json:"parts,omitempty"`
	// IsError says the answer is a tool error (isError) or an upstream
	// JSON-RPC error.
	IsError bool `json:"is_error,omitempty"`
}

// Part is one string of an answer that reaches the client.
type Part struct {
	// Path is a JSON Pointer into the JSON-RPC answer:
	// "/result/content/0/text", "/result/structuredContent/rows/3/name",
	// "/error/data/detail".
	Path string `json:"path"`
	// Span is the [start, end) byte range of the string in Output.Text.
	Span [2]int `json:"span"`
	// Key says the string is the member name at Path, not its value. A
	// member name cannot be masked in place: a redaction there blocks.
	Key bool `json:"key,omitempty"`
}

// Verdict is what a hook returns.
type Verdict struct {
	V          int         `json:"v"`
	Action     string      `json:"action"`
	Score      float64     `json:"score"`
	Reasons    []Reason    `json:"reasons,omitempty"`
	Redactions []Redaction `json:"redactions,omitempty"`
}

// Reason explains one finding.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Tool names the tool definition the finding is in (tool_list).
	Tool string `json:"tool,omitempty"`
	// Path is a JSON Pointer into the input ("/output/text",
	// "/arguments/command", "/tools/3/description").
	Path string `json:"path,omitempty"`
	// Span is the [start, end) byte range within the string at Path.
	Span *[2]int `json:"span,omitempty"`
}

// Redaction asks the host to mask [start, end) of the string at Path.
type Redaction struct {
	Path string `json:"path"`
	Span [2]int `json:"span"`
}

// Allow is the verdict of a guard that found nothing.
func Allow() Verdict { return Verdict{V: ABIVersion, Action: ActionAllow} }

// Flag passes the call and asks for it to be audited and marked.
func Flag(score float64, reasons ...Reason) Verdict {
	return Verdict{V: ABIVersion, Action: ActionFlag, Score: score, Reasons: reasons}
}

// Block stops the call.
func Block(score float64, reasons ...Reason) Verdict {
	return Verdict{V: ABIVersion, Action: ActionBlock, Score: score, Reasons: reasons}
}

// Redact passes the call with the given spans masked by the host.
func Redact(score float64, redactions []Redaction, reasons ...Reason) Verdict {
	return Verdict{V: ABIVersion, Action: ActionRedact, Score: score, Reasons: reasons, Redactions: redactions}
}

// Rank orders actions from allow (0) to block (3); unknown actions are -1.
func Rank(action string) int {
	switch action {
	case ActionAllow:
		return 0
	case ActionFlag:
		return 1
	case ActionRedact:
		return 2
	case ActionBlock:
		return 3
	}
	return -1
}
