package admin

import (
	"errors"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/catalog"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

func (a *API) routeRequests(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	switch {
	case len(rest) == 0 && method == fasthttp.MethodGet:
		a.listRequests(ctx, p)
	case len(rest) == 0 && method == fasthttp.MethodPost:
		if a.allow(ctx, p, policy.ResRequestsOwn, policy.ActCreate) {
			a.createRequest(ctx, p)
		}
	case len(rest) == 1 && method == fasthttp.MethodGet:
		a.getRequest(ctx, p, rest[0])
	case len(rest) == 2 && method == fasthttp.MethodPost && (rest[1] == "approve" || rest[1] == "reject"):
		if a.allow(ctx, p, policy.ResRequests, policy.ActApprove) {
			a.decideRequest(ctx, p, rest[0], rest[1] == "approve")
		}
	default:
		methodNotAllowed(ctx, method)
	}
}

func (a *API) listRequests(ctx *fasthttp.RequestCtx, p auth.Principal) {
	requester := string(ctx.QueryArgs().Peek("requester"))
	if !a.can(p, policy.ResRequests, policy.ActRead) {
		// Members see their own requests only.
		if !a.allow(ctx, p, policy.ResRequestsOwn, policy.ActRead) {
			return
		}
		if requester != "" && requester != p.User {
			writeError(ctx, fasthttp.StatusForbidden, "forbidden", "you may list only your own requests", "requester")
			return
		}
		requester = p.User
	}
	status := string(ctx.QueryArgs().Peek("status"))
	switch status {
	case "", catalog.StatusPending, catalog.StatusApproved, catalog.StatusRejected:
	default:
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_parameter", "status must be pending, approved or rejected", "status")
		return
	}
	pg, ok := readPage(ctx)
	if !ok {
		return
	}
	list, err := a.Requests.List(detach(ctx), requester, status)
	if err != nil {
		a.internal(ctx, err)
		return
	}
	items, next := paginate(list, pg, func(r *catalog.Request) string { return r.ID })
	if items == nil {
		items = []*catalog.Request{}
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"requests": items, "total": len(list), "next_cursor": next})
}

func (a *API) createRequest(ctx *fasthttp.RequestCtx, p auth.Principal) {
	var body struct {
		Template string               `json:"template"`
		Manual   *connector.Connector `json:"manual"`
		Slug     string               `json:"slug"`
		Reason   string               `json:"reason"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	body.Reason = strings.TrimSpace(body.Reason)
	switch {
	case body.Reason == "" || len(body.Reason) > 2000:
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "reason is required (up to 2000 characters): say what you need the connector for", "reason")
		return
	case (body.Template == "") == (body.Manual == nil):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "give exactly one of template (a catalog id) or manual (a connector description)", "template")
		return
	}
	if body.Template != "" {
		all, err := a.templates(ctx)
		if err != nil {
			a.internal(ctx, err)
			return
		}
		found := false
		for _, t := range all {
			found = found || t.ID == body.Template
		}
		if !found {
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "unknown_template", "no catalog template \""+body.Template+"\"; see GET /admin/v1/catalog", "template")
			return
		}
	}
	if body.Manual != nil {
		m := body.Manual
		m.ID, m.Version, m.Owner, m.Status = "", 0, p.User, connector.StatusDraft
		m.Normalize()
		// A request is read by its requester, approvers and auditors, and
		// stored as a plain document: it names what the server needs but
		// carries no secret. The approving admin supplies them.
		if m.Auth.Token != "" {
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "a request carries no secrets: leave the token out, the approving admin sets it", "manual.auth.token")
			return
		}
		for k, v := range m.Env {
			if v != "" {
				writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "a request names env variables without their values; the approving admin fills them", "manual.env."+k)
				return
			}
		}
		for k, v := range m.Headers {
			if !strings.Contains(v, "{") {
				writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "header values in a request must be {PLACEHOLDER}s that each user fills", "manual.headers."+k)
				return
			}
		}
		if err := m.Validate(); err != nil {
			var fe *connector.FieldError
			field := "manual"
			if errors.As(err, &fe) {
				field = "manual." + fe.Field
			}
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), field)
			return
		}
	}
	if body.Slug != "" && !connector.ValidSlug(body.Slug) {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "slug \""+body.Slug+"\" must be 1-64 lowercase letters, digits or dashes", "slug")
		return
	}
	r := &catalog.Request{Requester: p.User, Template: body.Template, Manual: body.Manual, Slug: body.Slug, Reason: body.Reason}
	if err := a.Requests.Create(detach(ctx), r); err != nil {
		if errors.Is(err, a.Errs.Conflict) {
			writeError(ctx, fasthttp.StatusConflict, "duplicate_request", "you already have a pending request for this connector", "")
			return
		}
		a.internal(ctx, err)
		return
	}
	a.record(ctx, p, "request.create", r.ID, map[string]any{"template": r.Template, "subject": r.Subject()})
	ctx.Response.Header.Set("Location", "/admin/v1/requests/"+r.ID)
	writeJSON(ctx, fasthttp.StatusCreated, r)
}

// loadRequest fetches a request the caller may see (their own, or any with
// requests:read), answering 404 otherwise.
func (a *API) loadRequest(ctx *fasthttp.RequestCtx, p auth.Principal, id string) (*catalog.Request, bool) {
	r, err := a.Requests.Get(detach(ctx), id)
	if err == nil && r.Requester != p.User && !a.can(p, policy.ResRequests, policy.ActRead) {
		err = a.Errs.NotFound
	}
	if err != nil {
		a.notFoundOr(ctx, err, "request \""+id+"\" not found")
		return nil, false
	}
	return r, true
}

func (a *API) getRequest(ctx *fasthttp.RequestCtx, p auth.Principal, id string) {
	if !a.can(p, policy.ResRequests, policy.ActRead) && !a.allow(ctx, p, policy.ResRequestsOwn, policy.ActRead) {
		return
	}
	if r, ok := a.loadRequest(ctx, p, id); ok {
		ctx.Response.Header.Set("ETag", etag(r.Version))
		writeJSON(ctx, fasthttp.StatusOK, r)
	}
}

// decideRequest approves (creating the connector) or rejects a pending
// request. Approval creates the connector first and then records the
// decision under the version it read; if another decision won meanwhile,
// the connector is removed again, so nothing is half-done.
func (a *API) decideRequest(ctx *fasthttp.RequestCtx, p auth.Principal, id string, approve bool) {
	r, ok := a.loadRequest(ctx, p, id)
	if !ok {
		return
	}
	var body struct {
		instanceBody
		Note string `json:"note"`
	}
	if len(ctx.PostBody()) > 0 {
		if err := decodeStrict(ctx.PostBody(), &body); err != nil {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
			return
		}
	}
	if r.Status != catalog.StatusPending {
		writeError(ctx, fasthttp.StatusConflict, "not_pending", "request "+id+" was already "+r.Status+" by "+r.DecidedBy, "")
		return
	}
	if !approve {
		if strings.TrimSpace(body.Note) == "" {
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "a rejection needs a note telling the requester why", "note")
			return
		}
		a.finishDecision(ctx, p, r, catalog.StatusRejected, body.Note, nil)
		return
	}
	if body.Slug == "" {
		body.Slug = r.Slug
	}
	var c *connector.Connector
	var missing []string
	if r.Template != "" {
		t, ok := a.template(ctx, r.Template)
		if !ok {
			return
		}
		if c, missing = a.createFromTemplate(ctx, p, t, body.instanceBody); c == nil {
			return
		}
	} else {
		if c = a.createManual(ctx, p, r, body.instanceBody); c == nil {
			return
		}
	}
	a.finishDecision(ctx, p, r, catalog.StatusApproved, body.Note, c, missing...)
}

// createManual stores the connector a manual request describes.
func (a *API) createManual(ctx *fasthttp.RequestCtx, p auth.Principal, r *catalog.Request, body instanceBody) *connector.Connector {
	c := *r.Manual
	c.Owner, c.ID, c.Version = p.User, "", 0
	c.Status = body.Status
	if c.Status == "" {
		c.Status = connector.StatusActive
	}
	if body.Slug != "" {
		c.Slug = body.Slug
	}
	if body.Name != "" {
		c.Name = body.Name
	}
	if body.Token != "" {
		c.Auth.Token = body.Token
	}
	for k, v := range body.Values {
		if _, ok := c.Env[k]; !ok {
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "the requested server has no env variable "+k, "values."+k)
			return nil
		}
		c.Env[k] = v
	}
	c.Normalize()
	if !a.validate(ctx, &c) || !a.mayLaunch(ctx, p, nil, &c, nil) {
		return nil
	}
	if err := a.Connectors.Create(detach(ctx), &c); err != nil {
		if errors.Is(err, a.Errs.Conflict) {
			writeError(ctx, fasthttp.StatusConflict, "conflict", "a connector with slug \""+c.Slug+"\" already exists; approve with another slug", "slug")
			return nil
		}
		a.internal(ctx, err)
		return nil
	}
	a.Registry.Put(&c)
	a.record(ctx, p, "connector.create", c.Slug, map[string]any{"request": r.ID, "status": c.Status})
	return &c
}

func (a *API) finishDecision(ctx *fasthttp.RequestCtx, p auth.Principal, r *catalog.Request, status, note string, c *connector.Connector, missing ...string) {
	slug := ""
	if c != nil {
		slug = c.Slug
	}
	updated, err := a.Requests.Update(detach(ctx), r.ID, r.Version, func(o *catalog.Request) error {
		return o.Decide(status, p.User, note, slug, a.Now())
	})
	if err != nil {
		if c != nil {
			// Another decision won: take back the connector this one made.
			if derr := a.Connectors.Delete(detach(ctx), c.Slug); derr == nil {
				a.Registry.Remove(c.Slug)
				a.recordAbout(ctx, p, "connector.delete", c.Slug, c.Slug, c.Advanced.Sensitive, map[string]any{"reason": "request decided concurrently"})
			}
		}
		if errors.Is(err, a.Errs.VersionMismatch) || errors.Is(err, catalog.ErrNotPending) {
			writeError(ctx, fasthttp.StatusConflict, "not_pending", "request "+r.ID+" was decided by someone else meanwhile", "")
			return
		}
		a.internal(ctx, err)
		return
	}
	action := "request.reject"
	if status == catalog.StatusApproved {
		action = "request.approve"
	}
	a.record(ctx, p, action, r.ID, map[string]any{"requester": r.Requester, "connector": slug, "note": note})
	if c != nil {
		a.grantRequester(ctx, p, r, c.Slug)
	}
	out := map[string]any{"request": updated}
	if c != nil {
		if missing == nil {
			missing = []string{}
		}
		out["connector"] = view(c)
		out["missing"] = missing
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

// grantRequester lets the requester of an approved connector use it: a
// tool rule "request-<id>" allowing them everything on the connector
// (the default policy grants members nothing). Admins may narrow or
// delete it like any rule.
func (a *API) grantRequester(ctx *fasthttp.RequestCtx, p auth.Principal, r *catalog.Request, slug string) {
	if a.Policies == nil {
		return
	}
	rule := policy.Rule{ID: "request-" + r.ID, Subject: "user:" + r.Requester, Connector: slug, Kind: policy.KindAny, Name: "*",
		Actions: []string{policy.ActList, policy.ActCall, policy.ActRead}, Effect: policy.EffectAllow,
		Description: "granted to the requester when request " + r.ID + " was approved"}
	if err := a.Policies.Put(detach(ctx), rule); err != nil {
		a.Log.Error().Err(err).Str("request", r.ID).Msg("could not grant the requester the new connector")
		return
	}
	a.record(ctx, p, "policy.put", rule.ID, map[string]any{"subject": rule.Subject, "connector": slug, "effect": rule.Effect, "request": r.ID})
}
