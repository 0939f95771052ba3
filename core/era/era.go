// Package era holds what differs between MCP's protocol generations: how
// a request says which one it speaks, what each demands of a request's
// headers, the methods each has, its own error codes and the HTTP status
// it gives an error. core/server frames HTTP and asks Detect which era a
// request speaks; core/proxy serves each. A third revision is one more
// Adapter (and a case in Detect), not edits across server and proxy.
package era

import "github.com/gatehouse-mcp/gatehouse/core/mcp"

// Adapter is one protocol generation's rules.
type Adapter interface {
	// Name is the era's short name, as logs and upstream_era say it.
	Name() string
	// Speaks reports whether revision v is one of the era's.
	Speaks(v string) bool
	// Has reports whether the era has method (a request or notification).
	Has(method string) bool
	// Check returns what is wrong with a request's headers, when the
	// gateway serves it as this era's server (nil: nothing).
	Check(h Header, m *mcp.Message) *mcp.Error
	// Status is the HTTP status the era answers a JSON-RPC error with.
	Status(e *mcp.Error) int
}

// Detect says which era a POSTed message speaks: a request without a
// session that is not a plain legacy initialize is a 2026-07-28 request;
// everything else (a session's traffic, initialize, responses and
// notifications) is legacy.
func Detect(h Header, m *mcp.Message) Adapter {
	if m.Kind() != mcp.KindRequest || h.SessionID() != "" {
		return Legacy{}
	}
	version := h.Version()
	if mcp.IsLegacyVersion(version) {
		return Legacy{} // a legacy client without its session: tell it so
	}
	if m.Method != mcp.MethodInitialize || version == mcp.Version20260728 || m.MetaProtocolVersionOf() != "" {
		return Modern{}
	}
	return Legacy{}
}

// CheckHeaders enforces, in either era, that Mcp-Method and Mcp-Name,
// when sent, agree with the body (2026-07-28): routing may trust them
// only after this.
func CheckHeaders(h Header, m *mcp.Message) *mcp.Error {
	if v := h.Method(); v != "" && v != m.Method {
		return mcp.Errorf(mcp.CodeHeaderMismatch, "header mismatch: Mcp-Method %q does not match the body's method %q", v, m.Method)
	}
	if v := h.Name(); v != "" {
		if name := m.TargetName(); v != name {
			return mcp.Errorf(mcp.CodeHeaderMismatch, "header mismatch: Mcp-Name %q does not match the body's %q", v, name)
		}
	}
	return nil
}
