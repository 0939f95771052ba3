package admin

import (
	"context"
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/auth/redirect"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// RedirectRules holds the OAuth redirect-URI lists and pending approvals
// (core/auth/redirect.Rules implements it).
type RedirectRules interface {
	List(list string) []redirect.Rule
	Add(ctx context.Context, list, uri, by, note string) (redirect.Rule, []string, error)
	Remove(ctx context.Context, id string) (redirect.Rule, error)
	Pending() []redirect.PendingURI
	PendingByID(id string) (redirect.PendingURI, bool)
	Approve(ctx context.Context, id, by, note string) (redirect.Rule, error)
	Deny(ctx context.Context, id, by, note string) (redirect.Rule, error)
	Check(uri string) redirect.Decision
}

// redirectCheck is a dry-run decision as the API shows it.
type redirectCheck struct {
	Outcome string `json:"outcome"`
	URI     string `json:"uri,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Class   string `json:"class,omitempty"`
	Reason  string `json:"reason"`
}

// routeRedirects serves /redirects: the OAuth redirect-URI rules.
//
//	GET    /redirects[?list=allowed|blocked]
//	POST   /redirects                        {"list","uri","note"}
//	DELETE /redirects/{id}
//	POST   /redirects/check                  {"uri"}
//	GET    /redirects/pending
//	GET    /redirects/pending/{id}
//	POST   /redirects/pending/{id}/approve   {"note"}
//	POST   /redirects/pending/{id}/deny      {"note"}
func (a *API) routeRedirects(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	if a.Redirects == nil {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "redirect-URI rules are not enabled on this gateway", "")
		return
	}
	switch {
	case len(rest) == 0 && method == fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResRedirects, policy.ActRead) {
			a.listRedirects(ctx)
		}
	case len(rest) == 0 && method == fasthttp.MethodPost:
		if a.allow(ctx, p, policy.ResRedirects, policy.ActWrite) {
			a.addRedirect(ctx, p)
		}
	case len(rest) == 1 && rest[0] == "check" && method == fasthttp.MethodPost:
		if a.allow(ctx, p, policy.ResRedirects, policy.ActRead) {
			a.checkRedirect(ctx)
		}
	case len(rest) == 1 && rest[0] == "pending" && method == fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResRedirects, policy.ActRead) {
			list := a.Redirects.Pending()
			if list == nil {
				list = []redirect.PendingURI{}
			}
			writeJSON(ctx, fasthttp.StatusOK, map[string]any{"pending": list})
		}
	case len(rest) == 2 && rest[0] == "pending" && method == fasthttp.MethodGet:
		if !a.allow(ctx, p, policy.ResRedirects, policy.ActRead) {
			return
		}
		pu, ok := a.Redirects.PendingByID(rest[1])
		if !ok {
			writeError(ctx, fasthttp.StatusNotFound, "not_found", "no pending redirect URI \""+rest[1]+"\"", "")
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, pu)
	case len(rest) == 3 && rest[0] == "pending" && method == fasthttp.MethodPost && (rest[2] == "approve" || rest[2] == "deny"):
		if a.allow(ctx, p, policy.ResRedirects, policy.ActApprove) {
			a.decideRedirect(ctx, p, rest[1], rest[2] == "approve")
		}
	case len(rest) == 1 && rest[0] != "check" && rest[0] != "pending" && method == fasthttp.MethodDelete:
		if a.allow(ctx, p, policy.ResRedirects, policy.ActWrite) {
			a.removeRedirect(ctx, p, rest[0])
		}
	default:
		methodNotAllowed(ctx, method)
	}
}

func (a *API) listRedirects(ctx *fasthttp.RequestCtx) {
	list := string(ctx.QueryArgs().Peek("list"))
	if list != "" && list != redirect.ListAllowed && list != redirect.ListBlocked {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_parameter", "list must be allowed or blocked", "list")
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"rules": a.Redirects.List(list)})
}

func (a *API) addRedirect(ctx *fasthttp.RequestCtx, p auth.Principal) {
	var body struct {
		List string `json:"list"`
		URI  string `json:"uri"`
		Note string `json:"note"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	if !checkNote(ctx, body.Note) {
		return
	}
	field := "uri"
	if body.List != redirect.ListAllowed && body.List != redirect.ListBlocked {
		field = "list"
	}
	rule, resolved, err := a.Redirects.Add(detach(ctx), body.List, body.URI, p.User, body.Note)
	if err != nil {
		a.redirectError(ctx, err, field)
		return
	}
	if resolved == nil {
		resolved = []string{}
	}
	a.record(ctx, p, "redirect.rule.add", rule.URI, map[string]any{"id": rule.ID, "list": rule.List, "note": rule.Note, "resolved": resolved})
	writeJSON(ctx, fasthttp.StatusCreated, map[string]any{"rule": rule, "resolved": resolved})
}

func (a *API) removeRedirect(ctx *fasthttp.RequestCtx, p auth.Principal, id string) {
	rule, err := a.Redirects.Remove(detach(ctx), id)
	if err != nil {
		a.redirectError(ctx, err, "")
		return
	}
	a.record(ctx, p, "redirect.rule.remove", rule.URI, map[string]any{"id": rule.ID, "list": rule.List})
	writeJSON(ctx, fasthttp.StatusOK, rule)
}

func (a *API) checkRedirect(ctx *fasthttp.RequestCtx) {
	var body struct {
		URI string `json:"uri"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	d := a.Redirects.Check(body.URI)
	writeJSON(ctx, fasthttp.StatusOK, redirectCheck{Outcome: string(d.Outcome), URI: d.URI, Rule: d.Rule, Class: string(d.Class), Reason: d.Reason})
}

// decideRedirect approves (the URI joins the allowed list) or denies (the
// blocked list) a pending redirect URI.
func (a *API) decideRedirect(ctx *fasthttp.RequestCtx, p auth.Principal, id string, approve bool) {
	var body struct {
		Note string `json:"note"`
	}
	if len(ctx.PostBody()) > 0 {
		if err := decodeStrict(ctx.PostBody(), &body); err != nil {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
			return
		}
	}
	if !checkNote(ctx, body.Note) {
		return
	}
	pu, _ := a.Redirects.PendingByID(id)
	decide, action := a.Redirects.Deny, "redirect.deny"
	if approve {
		decide, action = a.Redirects.Approve, "redirect.approve"
	}
	rule, err := decide(detach(ctx), id, p.User, body.Note)
	if err != nil {
		a.redirectError(ctx, err, "")
		return
	}
	a.record(ctx, p, action, rule.URI, map[string]any{"pending_id": id, "rule_id": rule.ID, "list": rule.List, "note": body.Note, "askers": pu.Askers, "count": pu.Count})
	writeJSON(ctx, fasthttp.StatusOK, rule)
}

// redirectError maps the rules' errors to statuses; field names what an
// invalid rule got wrong.
func (a *API) redirectError(ctx *fasthttp.RequestCtx, err error, field string) {
	switch {
	case errors.Is(err, redirect.ErrNotFound):
		writeError(ctx, fasthttp.StatusNotFound, "not_found", err.Error(), "")
	case errors.Is(err, redirect.ErrConflict):
		writeError(ctx, fasthttp.StatusConflict, "conflict", err.Error(), "")
	case errors.Is(err, redirect.ErrFull):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "limit", err.Error(), "")
	case errors.Is(err, redirect.ErrInvalidRule):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), field)
	default:
		a.internal(ctx, err)
	}
}

// checkNote refuses a note over 1000 characters (as approvals do).
func checkNote(ctx *fasthttp.RequestCtx, note string) bool {
	if len(note) > 1000 {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "note must be at most 1000 characters", "note")
		return false
	}
	return true
}
