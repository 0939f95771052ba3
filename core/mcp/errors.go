package mcp

import (
	"encoding/json"
	"fmt"
)

// JSON-RPC and MCP error codes. The gateway's own codes (−31050…−31062)
// sit outside the range JSON-RPC reserves (−32768…−32000), where the
// 2026-07-28 revision numbers MCP's own errors; docs/errors.md lists them
// for clients, with the old −320xx numbers they replace.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603

	// CodeHeaderMismatch is the 2026-07-28 code for Mcp-Method/Mcp-Name
	// headers that disagree with the body.
	CodeHeaderMismatch = -32020

	CodeUpstreamUnavailable = -31050
	CodeConnectorDisabled   = -31051
	CodeConnectorNotFound   = -31052
	CodeMissingCredential   = -31053
	CodeUpstreamTimeout     = -31054
	CodeUpstreamProtocol    = -31055
	// CodeGuardBlocked: a ToolGuard blocked the call's result.
	CodeGuardBlocked = -31056
	// CodeToolHeld: the tool's definition is held for an admin's review
	// (flagged by the Tool List Guard, or changed after it was pinned).
	CodeToolHeld = -31057
	// CodePolicyDenied: a tool policy refused the request (data: the
	// deciding rule, when one decided), or a require-approval rule's
	// approval was denied or expired.
	CodePolicyDenied = -31058
	// CodeLimitReached: a per-user or per-connector limit (sessions, STDIO
	// processes, requests in flight) refuses the request (data: the
	// limit's name and value).
	CodeLimitReached = -31059
	// CodeAuditUnavailable: the call's audit entry could not be made
	// durable, so its answer is withheld (the call may have run upstream).
	CodeAuditUnavailable = -31060
	// CodeGuardBusy: the answer's guards found no free instance within
	// their acquisition wait (the gateway's own backlog, not a verdict):
	// the answer is withheld, whatever the connector's fail mode.
	CodeGuardBusy = -31061
	// CodeUpstreamNotConnected: the connector signs each user in to its
	// upstream with OAuth and the caller has not connected (or the
	// upstream revoked the grant); data names the connect URL.
	CodeUpstreamNotConnected = -31062
	// CodePluginFailed: a plugin could not serve the call (not running,
	// no answer within plugins.call_timeout, or garbage); the message and
	// data name the plugin.
	CodePluginFailed = -31063
)

// Error is a JSON-RPC error object. It implements error so it can travel
// through Go error paths and still be sent to the client as is.
type Error struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("json-rpc error %d: %s", e.Code, e.Message) }

// NewError builds an error object.
func NewError(code int, message string) *Error { return &Error{Code: code, Message: message} }

// Errorf builds an error object with a formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
