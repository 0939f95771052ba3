package host

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// CodePluginFailed is the JSON-RPC error code of a call a plugin could not
// serve: it is not running (crashed, restarting, refused at start), it
// did not answer within plugins.call_timeout, or it answered garbage
// (mcp.CodePluginFailed, −31063; docs/errors.md).
const CodePluginFailed = mcp.CodePluginFailed

// ErrNotRunning is wrapped by the error of a call to a plugin that is not
// running.
var ErrNotRunning = errors.New("plugin not running")

// ErrTimeout is wrapped by the error of a call the plugin did not answer
// within its deadline.
var ErrTimeout = errors.New("plugin did not answer in time")

// ErrGarbage is wrapped by the error of a call the plugin answered with
// something the interface does not allow.
var ErrGarbage = errors.New("plugin answered garbage")

// Error is a failed plugin call. It names the plugin, and reads as the
// client-facing JSON-RPC error (errors.As to *mcp.Error) so that it
// reaches MCP clients as is.
type Error struct {
	Plugin string
	// Msg says what went wrong and what to do.
	Msg string
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("plugin %q: %s", e.Plugin, e.Msg) }

// Unwrap exposes the cause (ErrNotRunning, ErrTimeout, ErrGarbage, and
// for a transport session upstream.ErrClosed so that the proxy drops it).
func (e *Error) Unwrap() error { return e.Err }

// As makes errors.As(err, **mcp.Error) hold, with CodePluginFailed.
func (e *Error) As(target any) bool {
	t, ok := target.(**mcp.Error)
	if !ok {
		return false
	}
	data, _ := json.Marshal(map[string]string{"plugin": e.Plugin})
	*t = &mcp.Error{Code: CodePluginFailed, Message: e.Error(), Data: data}
	return true
}

// ProviderUnavailable marks an auth plugin's failure as the gateway's
// (503: retry), not the credential's (401).
func (e *Error) ProviderUnavailable() bool { return true }

// UpstreamError is a transport plugin's report that it could not reach
// the connector's upstream (sdk/plugin sends it when Open fails). It is
// not an *mcp.Error: the proxy answers it as the connector's
// unavailability (−31050), naming the plugin.
type UpstreamError struct {
	Plugin string
	// Msg is the plugin's reason.
	Msg string
}

func (e *UpstreamError) Error() string {
	return fmt.Sprintf("through plugin %q: %s", e.Plugin, e.Msg)
}
