package era

import (
	"net/http"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// Legacy is the era of revisions up to 2025-11-25: initialize, sessions
// (Mcp-Session-Id), the GET stream, server-to-client requests.
type Legacy struct{}

// Name implements Adapter.
func (Legacy) Name() string { return "legacy" }

// Speaks implements Adapter.
func (Legacy) Speaks(v string) bool { return mcp.IsLegacyVersion(v) }

// Has implements Adapter: every method but the 2026-07-28 ones.
func (Legacy) Has(method string) bool {
	switch method {
	case mcp.MethodServerDiscover, mcp.MethodSubscriptionsListen, mcp.MethodSubscriptionsAcknowledged:
		return false
	}
	return true
}

// Check implements Adapter: a session's requests may name a version,
// and it must be a legacy one.
func (Legacy) Check(h Header, _ *mcp.Message) *mcp.Error {
	if v := h.Version(); v != "" && !mcp.IsLegacyVersion(v) {
		return mcp.Errorf(mcp.CodeInvalidRequest, "bad request: unsupported MCP-Protocol-Version %q for a session", v)
	}
	return nil
}

// Status implements Adapter: JSON-RPC errors travel with 200 but for a
// connector that does not exist (404).
func (Legacy) Status(e *mcp.Error) int {
	if e.Code == mcp.CodeConnectorNotFound {
		return http.StatusNotFound
	}
	return http.StatusOK
}
