package pipeline

import (
	"context"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// Gate decides requests by the tool policies and validates a call's
// arguments against the tool's input schema (core/access.Gate).
type Gate interface {
	Admit(p auth.Principal, c *connector.Connector, req *mcp.Message) access.Admission
	AdmitApproved(p auth.Principal, c *connector.Connector, req *mcp.Message, approval string) access.Admission
	AdmitContinued(p auth.Principal, c *connector.Connector, req *mcp.Message) access.Admission
}

// Policy is the stage that decides a request by the tool policies: a
// denial ends it; the admission (the decision, an approval the call
// needs, the schema validation's verdict) is kept on the exchange for
// the Validate and Approval stages and the audit record.
type Policy struct {
	gate Gate
}

// NewPolicy returns the policy stage, or nil without a gate.
func NewPolicy(gate Gate) Stage {
	if gate == nil {
		return nil
	}
	return &Policy{gate: gate}
}

// Request admits or refuses the request.
func (s *Policy) Request(_ context.Context, x *Exchange) Step {
	if x.Connector == nil {
		return Continue() // the upstream path answers "not found"
	}
	switch {
	case x.Use.Continued:
		x.Admission = s.gate.AdmitContinued(x.Principal, x.Connector, x.Request)
	case x.Use.ID != "":
		// The approval is taken for this very call, once, under the
		// rules in force now.
		x.Admission = s.gate.AdmitApproved(x.Principal, x.Connector, x.Request, x.Use.ID)
		if x.Admission.Err == nil {
			x.Approval = x.Use.ID
		}
	default:
		x.Admission = s.gate.Admit(x.Principal, x.Connector, x.Request)
	}
	if x.Admission.Err != nil {
		return Refuse(x.Admission.Err)
	}
	return Continue()
}

// Answer does nothing: listings are narrowed in the Narrow stage.
func (s *Policy) Answer(context.Context, *Exchange, *Answer) {}
