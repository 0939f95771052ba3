package pipeline

import (
	"context"

	"github.com/gatehouse-mcp/gatehouse/core/access"
)

// Validate is the stage that answers a call whose arguments fail the
// tool's input schema (as the policy stage's gate found) with a tool
// execution error, without the upstream: the model sees it and can
// correct itself (SEP-1303).
type Validate struct{}

// Request answers an invalid call.
func (Validate) Request(_ context.Context, x *Exchange) Step {
	if inv := x.Admission.Invalid; inv != nil {
		return Reply(access.InvalidResult(x.Request.ID, inv))
	}
	return Continue()
}

// Answer does nothing.
func (Validate) Answer(context.Context, *Exchange, *Answer) {}
