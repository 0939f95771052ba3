package proxy

import (
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/offload"
)

// advertiseOffload adds the resources capability to c's initialize
// result when the gateway offloads c's outputs: the client reads the
// links with resources/read even when the upstream serves no resources.
// The per-connector sessions, the translations of both eras (their
// server/discover is built from this result) and the aggregate's
// children all open here; the sessionless passthrough's server/discover
// is the offload stage's.
func (p *Proxy) advertiseOffload(c *connector.Connector, resp *mcp.Message) *mcp.Message {
	if p.opts.Offload == nil || !c.Advanced.OffloadEnabled() || resp.Result == nil {
		return resp
	}
	return &mcp.Message{JSONRPC: "2.0", ID: resp.ID, Result: offload.Advertise(resp.Result)}
}

// modernError renumbers a legacy error for a 2026-07-28 client: the
// legacy resource-not-found code (−32002, the gateway's offload links'
// and any legacy upstream's) is −32602 in that revision.
func modernError(e *mcp.Error) *mcp.Error {
	if e.Code != offload.CodeResourceNotFoundLegacy {
		return e
	}
	out := *e
	out.Code = mcp.CodeInvalidParams
	return &out
}
