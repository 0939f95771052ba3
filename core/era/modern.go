package era

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// Error codes of the 2026-07-28 era (its −32020…−32099 range; the header
// mismatch −32020 is mcp.CodeHeaderMismatch, shared by both eras' checks).
const (
	// CodeMissingClientCapability: the request needs a client capability
	// its _meta does not declare.
	CodeMissingClientCapability = -32021
	// CodeUnsupportedProtocolVersion: _meta names a revision the server
	// does not speak (data: supported, requested).
	CodeUnsupportedProtocolVersion = -32022
)

// Modern is the 2026-07-28 era: no initialize and no sessions, _meta on
// every request, Mcp-Method/Mcp-Name headers, server/discover,
// subscriptions/listen, multi-round-trip requests.
type Modern struct{}

// Name implements Adapter.
func (Modern) Name() string { return "modern" }

// Speaks implements Adapter.
func (Modern) Speaks(v string) bool { return v == mcp.Version20260728 }

// Has implements Adapter: the legacy handshake, ping, logging/setLevel,
// resource subscriptions and roots-changed notifications are gone.
func (Modern) Has(method string) bool {
	switch method {
	case mcp.MethodInitialize, mcp.MethodInitialized, mcp.MethodPing, mcp.MethodLoggingSetLevel,
		mcp.MethodResourcesSubscribe, mcp.MethodResourcesUnsubscribe, mcp.MethodRootsListChanged:
		return false
	}
	return true
}

// Check implements Adapter with what a 2026-07-28 server must refuse
// (CheckHeaders has already compared the values sent): a version header
// that disagrees with _meta, no Mcp-Method, no Mcp-Name when the body
// names a tool, prompt or resource.
func (Modern) Check(h Header, m *mcp.Message) *mcp.Error {
	version := h.Version()
	if v := m.MetaProtocolVersionOf(); version != "" && v != "" && v != version {
		return mcp.Errorf(mcp.CodeHeaderMismatch, "header mismatch: MCP-Protocol-Version %q does not match _meta protocolVersion %q", version, v)
	}
	if h.Method() == "" {
		if version == "" {
			// Nothing says which era the client speaks: most often a
			// 2025 client that lost its session id.
			return mcp.NewError(mcp.CodeInvalidRequest, "invalid request: no Mcp-Session-Id header (a 2025-era client sends the one its initialize answer gave, or initializes again) and no Mcp-Method header (a 2026-07-28 client sends it with MCP-Protocol-Version)")
		}
		return mcp.NewError(mcp.CodeHeaderMismatch, "header mismatch: the Mcp-Method header is required")
	}
	if name := m.TargetName(); name != "" && h.Name() == "" {
		return mcp.Errorf(mcp.CodeHeaderMismatch, "header mismatch: the Mcp-Name header is required (the body names %q)", name)
	}
	return nil
}

// Status implements Adapter: 2026-07-28 answers what it cannot route
// with 404 and a malformed request with 400.
func (Modern) Status(e *mcp.Error) int {
	switch e.Code {
	case mcp.CodeMethodNotFound, mcp.CodeConnectorNotFound:
		return http.StatusNotFound
	case mcp.CodeInvalidParams, mcp.CodeInvalidRequest, mcp.CodeHeaderMismatch, CodeMissingClientCapability, CodeUnsupportedProtocolVersion:
		return http.StatusBadRequest
	default:
		return http.StatusOK
	}
}

// Meta checks a 2026-07-28 request's _meta (protocol version and client
// capabilities are required) and returns it.
func (Modern) Meta(req *mcp.Message) (map[string]json.RawMessage, *mcp.Error) {
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	if len(req.Params) > 0 {
		_ = json.Unmarshal(req.Params, &p)
	}
	if p.Meta == nil {
		return nil, mcp.NewError(mcp.CodeInvalidParams, "invalid params: a request without Mcp-Session-Id is a 2026-07-28 request and needs _meta with protocolVersion and clientCapabilities (legacy clients: initialize first, then send the Mcp-Session-Id header)")
	}
	var version string
	_ = json.Unmarshal(p.Meta[mcp.MetaProtocolVersion], &version)
	switch {
	case version == "":
		return nil, mcp.NewError(mcp.CodeInvalidParams, "invalid params: _meta lacks "+mcp.MetaProtocolVersion)
	case version != mcp.Version20260728:
		data, _ := json.Marshal(map[string]any{"supported": []string{mcp.Version20260728}, "requested": version})
		return nil, &mcp.Error{Code: CodeUnsupportedProtocolVersion, Message: "unsupported protocol version " + strconv.Quote(version), Data: data}
	case p.Meta[mcp.MetaClientCapabilities] == nil:
		return nil, mcp.NewError(mcp.CodeInvalidParams, "invalid params: _meta lacks "+mcp.MetaClientCapabilities)
	}
	return p.Meta, nil
}
