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
