package admin

import (
	"bufio"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

func (a *API) routeAudit(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	if method != fasthttp.MethodGet {
		methodNotAllowed(ctx, method)
		return
	}
	if !a.allow(ctx, p, policy.ResAudit, policy.ActRead) {
		return
	}
	switch {
	case len(rest) == 0:
		a.queryAudit(ctx, p)
	case len(rest) == 1 && rest[0] == "export":
		a.exportAudit(ctx, p)
	default:
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such admin endpoint", "")
	}
}

// auditFilter reads from, to, actor, connector, action, outcome, cursor
// and limit.
func (a *API) auditFilter(ctx *fasthttp.RequestCtx, defaultLimit int) (audit.Filter, bool) {
	args := ctx.QueryArgs()
	f := audit.Filter{
		Actor: string(args.Peek("actor")), Connector: string(args.Peek("connector")),
		Action: string(args.Peek("action")), Outcome: string(args.Peek("outcome")),
		After: string(args.Peek("cursor")), Limit: defaultLimit,
	}
	if f.Outcome != "" && !slices.Contains(audit.Outcomes, f.Outcome) {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_parameter", "outcome "+strconv.Quote(f.Outcome)+" is not one of: "+strings.Join(audit.Outcomes, ", "), "outcome")
		return f, false
	}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		t, err := audit.ParseTime(string(args.Peek(name)), a.Now())
		if err != nil {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_parameter", name+": "+err.Error(), name)
			return f, false
		}
		*dst = t
	}
	if raw := args.Peek("limit"); len(raw) > 0 {
		n, err := strconv.Atoi(string(raw))
		if err != nil || n < 1 || n > maxPageSize {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_parameter", "limit must be an integer from 1 to 1000", "limit")
			return f, false
		}
		f.Limit = n
	}
	return f, true
}

// seeDetails decides, per connector, whether the reader sees sensitive
// entries unredacted: the owner role, or a role the connector selects.
func (a *API) seeDetails(p auth.Principal) func(e *audit.Entry) bool {
	cache := map[string]bool{}
	return func(e *audit.Entry) bool {
		if !e.Sensitive || p.HasRole(auth.RoleOwner) {
			return true
		}
		if v, ok := cache[e.Connector]; ok {
			return v
		}
		ok := false
		if c, found := a.Registry.Lookup(e.Connector); found && c.Advanced.Sensitive {
			for _, r := range p.Roles {
				if slices.Contains(c.Advanced.SensitiveRoles, r) {
					ok = true
				}
			}
		}
		cache[e.Connector] = ok
		return ok
	}
}

func (a *API) queryAudit(ctx *fasthttp.RequestCtx, p auth.Principal) {
	f, ok := a.auditFilter(ctx, defaultPageSize)
	if !ok {
		return
	}
	limit := f.Limit
	f.Limit = limit + 1 // one more tells whether there is a next page
	see := a.seeDetails(p)
	out := make([]audit.Entry, 0, limit)
	next := ""
	err := a.Audit.Query(detach(ctx), f, func(e *audit.Entry) (bool, error) {
		if len(out) == limit {
			next = out[len(out)-1].ID
			return false, nil
		}
		if see(e) {
			out = append(out, *e)
		} else {
			out = append(out, e.Redact())
		}
		return true, nil
	})
	if err != nil {
		a.internal(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"entries": out, "next_cursor": next})
}

// exportAudit streams every matching entry as JSON Lines.
func (a *API) exportAudit(ctx *fasthttp.RequestCtx, p auth.Principal) {
	f, ok := a.auditFilter(ctx, 0)
	if !ok {
		return
	}
	see := a.seeDetails(p)
	a.record(ctx, p, "audit.export", "", map[string]any{"from": f.From, "to": f.To, "actor": f.Actor, "connector": f.Connector, "action": f.Action})
	ctx.SetContentType("application/x-ndjson")
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="gatehouse-audit.jsonl"`)
	bg := detach(ctx)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		enc := json.NewEncoder(w)
		n := 0
		err := a.Audit.Query(bg, f, func(e *audit.Entry) (bool, error) {
			v := *e
			if !see(e) {
				v = e.Redact()
			}
			if err := enc.Encode(&v); err != nil {
				return false, err
			}
			n++
			if n%256 == 0 {
				return true, w.Flush()
			}
			return true, nil
		})
		if err != nil {
			a.Log.Error().Err(err).Msg("audit export stopped")
		}
	})
}
