package pipeline

import (
	"context"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
)

// Pins tells which tools of a connector are held for review
// (core/toolguard.Pins implements it).
type Pins interface {
	Held(ctx context.Context, c *connector.Connector, tool string) (string, bool)
}

// Held is the stage that refuses a tools/call to a held tool (its
// definition changed after it was approved, or the Tool List Guard
// flagged it) before the upstream sees it.
type Held struct {
	pins Pins
}

// NewHeld returns the held-tools stage, or nil without pins.
func NewHeld(pins Pins) Stage {
	if pins == nil {
		return nil
	}
	return &Held{pins: pins}
}

// Request refuses a call to a held tool.
func (s *Held) Request(ctx context.Context, x *Exchange) Step {
	c := x.Connector
	if c == nil || !x.IsCall() {
		return Continue()
	}
	tool := x.Request.TargetName()
	status, held := s.pins.Held(ctx, c, tool)
	if !held {
		return Continue()
	}
	why := "its definition changed after it was approved"
	if status == toolguard.ToolHeldFlagged {
		why = "the Tool List Guard flagged its definition"
	}
	return Refuse(mcp.Errorf(mcp.CodeToolHeld, "tool %q of connector %q is held for review: %s; an admin must approve it (POST /admin/v1/connectors/%s/tools/%s/approve)", tool, c.Slug, why, c.Slug, tool))
}

// Answer does nothing: listings lose held tools in the Narrow stage.
func (s *Held) Answer(context.Context, *Exchange, *Answer) {}
