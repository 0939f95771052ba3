package admin

import (
	"context"
	"errors"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
)

// ToolPins shows and approves connectors' pinned tool definitions
// (core/toolguard.Pins implements it).
type ToolPins interface {
	Scan(ctx context.Context, c *connector.Connector) (toolguard.ToolScan, error)
	Approve(ctx context.Context, c *connector.Connector, tool string) (toolguard.ToolState, error)
}

// ToolScanner lists a connector's tools through the gateway so the pins
// and the Tool List Guard see them (core/proxy.Proxy implements it).
type ToolScanner interface {
	ScanTools(ctx context.Context, slug string) (int, error)
}

// scanSoon scans an active connector in the background after a write: the
// Tool List Guard runs at registration, not at the first client's list.
func (a *API) scanSoon(c *connector.Connector) {
	if a.Scanner == nil || c.Status != connector.StatusActive {
		return
	}
	slug := c.Slug
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		n, err := a.Scanner.ScanTools(ctx, slug)
		if err != nil {
			a.Log.Warn().Err(err).Str("connector", slug).Msg("tool scan at registration failed; tools are scanned when first listed")
			return
		}
		a.Log.Info().Str("connector", slug).Int("tools", n).Msg("tools scanned")
	}()
}

// scanConnector serves POST /connectors/{slug}/tools/scan: list and scan
// now, then answer the tool states.
func (a *API) scanConnector(ctx *fasthttp.RequestCtx, p auth.Principal, slug string) {
	c, ok := a.load(ctx, p, slug)
	if !ok {
		return
	}
	if a.Scanner == nil || a.Pins == nil {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "tool pinning is not enabled on this gateway", "")
		return
	}
	if c.Status != connector.StatusActive {
		writeError(ctx, fasthttp.StatusConflict, "not_active", "connector \""+slug+"\" is "+string(c.Status)+"; activate it to scan its tools", "status")
		return
	}
	sctx, cancel := context.WithTimeout(detach(ctx), 2*time.Minute)
	defer cancel()
	if _, err := a.Scanner.ScanTools(sctx, slug); err != nil {
		writeError(ctx, fasthttp.StatusBadGateway, "scan_failed", err.Error(), "")
		return
	}
	a.record(ctx, p, "connector.scan", slug, nil)
	a.connectorTools(ctx, p, slug)
}

// connectorTools serves GET /connectors/{slug}/tools: the Tool List Guard's
// results and each tool's pin status.
func (a *API) connectorTools(ctx *fasthttp.RequestCtx, p auth.Principal, slug string) {
	c, ok := a.load(ctx, p, slug)
	if !ok {
		return
	}
	if a.Pins == nil {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "tool pinning is not enabled on this gateway", "")
		return
	}
	scan, err := a.Pins.Scan(detach(ctx), c)
	if err != nil {
		a.internal(ctx, err)
		return
	}
	if scan.Tools == nil {
		scan.Tools = []toolguard.ToolState{}
	}
	writeJSON(ctx, fasthttp.StatusOK, scan)
}

// approveTool serves POST /connectors/{slug}/tools/{name}/approve: pin the
// tool's current definition and release it to clients.
func (a *API) approveTool(ctx *fasthttp.RequestCtx, p auth.Principal, slug, tool string) {
	c, ok := a.load(ctx, p, slug)
	if !ok {
		return
	}
	if a.Pins == nil {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "tool pinning is not enabled on this gateway", "")
		return
	}
	st, err := a.Pins.Approve(detach(ctx), c, tool)
	if err != nil {
		if errors.Is(err, toolguard.ErrNoSuchTool) {
			writeError(ctx, fasthttp.StatusNotFound, "not_found", "connector \""+slug+"\" has no tool \""+tool+"\" (list its tools first)", "")
			return
		}
		a.internal(ctx, err)
		return
	}
	a.record(ctx, p, "tool.approve", slug, map[string]any{"tool": tool, "hash": st.Hash})
	writeJSON(ctx, fasthttp.StatusOK, st)
}
