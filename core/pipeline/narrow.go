package pipeline

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// ListPins filters tools/list answers through the tool pins: held tools
// leave the listing, new definitions are scanned and pinned
// (core/toolguard.Pins implements it).
type ListPins interface {
	FilterList(ctx context.Context, c *connector.Connector, resp *mcp.Message) (*mcp.Message, error)
}

// ListPolicy narrows a listing to what the caller may use
// (core/access.Gate implements it).
type ListPolicy interface {
	FilterList(p auth.Principal, c *connector.Connector, method string, resp *mcp.Message) *mcp.Message
}

// Narrow is the stage that narrows listings on their way back: a
// tools/list answer through the tool pins first (so every definition
// the upstream offers is pinned, whoever lists it), then every listing
// the policies govern to what the caller may use.
type Narrow struct {
	pins   ListPins
	policy ListPolicy
	log    zerolog.Logger
}

// NewNarrow returns the listing stage, or nil with neither pins nor
// policy.
func NewNarrow(pins ListPins, policy ListPolicy, log zerolog.Logger) Stage {
	if pins == nil && policy == nil {
		return nil
	}
	return &Narrow{pins: pins, policy: policy, log: log}
}

// Request does nothing.
func (s *Narrow) Request(context.Context, *Exchange) Step { return Continue() }

// Answer narrows a listing.
func (s *Narrow) Answer(ctx context.Context, x *Exchange, a *Answer) {
	c := x.Connector
	if a.Msg == nil || c == nil || !x.Relayed {
		return
	}
	method := x.Request.Method
	if method == mcp.MethodToolsList && s.pins != nil {
		filtered, err := s.pins.FilterList(ctx, c, a.Msg)
		if err != nil {
			s.log.Error().Err(err).Str("connector", c.Slug).Msg("tool pins unavailable; the tool list is withheld")
			a.Msg = mcp.NewErrorResponse(a.Msg.ID, mcp.Errorf(mcp.CodeToolHeld, "the tool list of connector %q cannot be checked right now", c.Slug))
			return
		}
		a.Msg = filtered
	}
	if s.policy != nil && access.Governs(method) {
		a.Msg = s.policy.FilterList(x.Principal, c, method, a.Msg)
	}
}
