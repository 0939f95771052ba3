package proxy

import (
	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/pipeline"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
)

// AuditUnavailable is the error a client gets instead of an answer whose
// audit entry could not be made durable. It names no internal detail.
func AuditUnavailable() *mcp.Error { return pipeline.AuditUnavailable() }

// reads reports whether the chain reads answers to method before they
// are relayed (answer guards, tool pins or listing policies): such an
// answer it cannot read must not be relayed unread.
func (p *Proxy) reads(method string) bool {
	return toolguard.Guards(method) && p.opts.Guard != nil ||
		method == mcp.MethodToolsList && p.opts.Tools != nil ||
		access.Governs(method) && p.opts.Access != nil
}
