package admin

import (
	"errors"
	"sort"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/catalog"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
)

func (a *API) routeCatalog(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	switch {
	case len(rest) == 0 && method == fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResCatalog, policy.ActRead) {
			a.listTemplates(ctx)
		}
	case len(rest) == 0 && method == fasthttp.MethodPost:
		if a.allow(ctx, p, policy.ResCatalog, policy.ActWrite) {
			a.createTemplate(ctx, p)
		}
	case len(rest) == 1 && method == fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResCatalog, policy.ActRead) {
			a.getTemplate(ctx, p, rest[0])
		}
	case len(rest) == 1 && method == fasthttp.MethodDelete:
		if a.allow(ctx, p, policy.ResCatalog, policy.ActWrite) {
			a.deleteTemplate(ctx, p, rest[0])
		}
	case len(rest) == 2 && rest[1] == "connectors" && method == fasthttp.MethodPost:
		if a.allow(ctx, p, policy.ResConnectors, policy.ActWrite) {
			a.addFromTemplate(ctx, p, rest[0])
		}
	default:
		methodNotAllowed(ctx, method)
	}
}

// templates returns the built-in and custom templates, sorted by id.
func (a *API) templates(ctx *fasthttp.RequestCtx) ([]*catalog.Template, error) {
	custom, err := a.Templates.List(detach(ctx))
	if err != nil {
		return nil, err
	}
	all := append(append([]*catalog.Template(nil), a.Builtin...), custom...)
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all, nil
}

// template finds a template by id, answering 404 when there is none.
func (a *API) template(ctx *fasthttp.RequestCtx, id string) (*catalog.Template, bool) {
	all, err := a.templates(ctx)
	if err != nil {
		a.internal(ctx, err)
		return nil, false
	}
	for _, t := range all {
		if t.ID == id {
			return t, true
		}
	}
	writeError(ctx, fasthttp.StatusNotFound, "not_found", "no catalog template \""+id+"\"", "")
	return nil, false
}

func (a *API) listTemplates(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	f := catalog.Filter{Query: string(args.Peek("query")), Hosting: string(args.Peek("hosting"))}
	switch f.Hosting {
	case "", "all", connector.HostingHosted, connector.HostingLocal:
	default:
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_parameter", "hosting must be all, hosted or local", "hosting")
		return
	}
	pg, ok := readPage(ctx)
	if !ok {
		return
	}
	all, err := a.templates(ctx)
	if err != nil {
		a.internal(ctx, err)
		return
	}
	var matches []*catalog.Template
	for _, t := range all {
		if f.Match(t) {
			matches = append(matches, t)
		}
	}
	items, next := paginate(matches, pg, func(t *catalog.Template) string { return t.ID })
	if items == nil {
		items = []*catalog.Template{}
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"version": catalog.Version, "templates": items, "total": len(matches), "next_cursor": next})
}

func (a *API) getTemplate(ctx *fasthttp.RequestCtx, p auth.Principal, id string) {
	t, ok := a.template(ctx, id)
	if !ok {
		return
	}
	// The card also says which connectors (the caller may see) came from it.
	// and the Tool List Guard's results on their tools.
	made := []string{}
	scans := []map[string]any{}
	for _, c := range a.Registry.Search(connector.Filter{}, func(c *connector.Connector) bool {
		return c.Template == id && c.VisibleTo(p.User, p.Roles)
	}) {
		made = append(made, c.Slug)
		if a.Pins == nil {
			continue
		}
		if scan, err := a.Pins.Scan(detach(ctx), c); err == nil && len(scan.Tools) > 0 {
			held := 0
			for _, t := range scan.Tools {
				if t.Status != toolguard.ToolApproved {
					held++
				}
			}
			scans = append(scans, map[string]any{"connector": c.Slug, "scanned_at": scan.ScannedAt, "tools": len(scan.Tools), "held": held})
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"template": t, "catalog_version": catalog.Version, "connectors": made, "scans": scans})
}

func (a *API) createTemplate(ctx *fasthttp.RequestCtx, p auth.Principal) {
	var t catalog.Template
	if err := decodeStrict(ctx.PostBody(), &t); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	t.Builtin, t.Owner = false, p.User
	if t.Tools == nil {
		t.Tools = []catalog.Tool{}
	}
	if err := t.Validate(); err != nil {
		var fe *catalog.FieldError
		field := ""
		if errors.As(err, &fe) {
			field = fe.Field
		}
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), field)
		return
	}
	for _, b := range a.Builtin {
		if b.ID == t.ID {
			writeError(ctx, fasthttp.StatusConflict, "conflict", "\""+t.ID+"\" is a built-in template", "id")
			return
		}
	}
	if err := a.Templates.Create(detach(ctx), &t); err != nil {
		if errors.Is(err, a.Errs.Conflict) {
			writeError(ctx, fasthttp.StatusConflict, "conflict", "a template with id \""+t.ID+"\" already exists", "id")
			return
		}
		a.internal(ctx, err)
		return
	}
	a.record(ctx, p, "catalog.create", t.ID, map[string]any{"version": t.Version})
	ctx.Response.Header.Set("Location", "/admin/v1/catalog/"+t.ID)
	writeJSON(ctx, fasthttp.StatusCreated, &t)
}

func (a *API) deleteTemplate(ctx *fasthttp.RequestCtx, p auth.Principal, id string) {
	for _, b := range a.Builtin {
		if b.ID == id {
			writeError(ctx, fasthttp.StatusConflict, "builtin", "built-in templates ship with Gatehouse and cannot be deleted", "")
			return
		}
	}
	if err := a.Templates.Delete(detach(ctx), id); err != nil {
		a.notFoundOr(ctx, err, "no catalog template \""+id+"\"")
		return
	}
	a.record(ctx, p, "catalog.delete", id, nil)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// instanceBody is how a caller fills a template: the connector's slug and
// name, the template's values, the bearer token, an explicit status.
type instanceBody struct {
	Slug   string            `json:"slug"`
	Name   string            `json:"name"`
	Values map[string]string `json:"values"`
	Token  string            `json:"token"`
	Status connector.Status  `json:"status"`
}

// createFromTemplate makes and stores the connector; on failure it has
// answered and returns nil.
func (a *API) createFromTemplate(ctx *fasthttp.RequestCtx, p auth.Principal, t *catalog.Template, body instanceBody) (*connector.Connector, []string) {
	inst := catalog.Instance{Slug: body.Slug, Name: body.Name, Values: body.Values, Token: body.Token, Owner: p.User, Status: body.Status}
	c, err := t.Connector(inst)
	if err != nil {
		var fe *catalog.FieldError
		field := ""
		if errors.As(err, &fe) {
			field = fe.Field
		}
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), field)
		return nil, nil
	}
	if !a.validate(ctx, c) || !a.mayLaunch(ctx, p, nil, c, t) {
		return nil, nil
	}
	if err := a.Connectors.Create(detach(ctx), c); err != nil {
		if errors.Is(err, a.Errs.Conflict) {
			writeError(ctx, fasthttp.StatusConflict, "conflict", "a connector with slug \""+c.Slug+"\" already exists; choose another slug", "slug")
			return nil, nil
		}
		a.internal(ctx, err)
		return nil, nil
	}
	a.Registry.Put(c)
	missing := t.Missing(inst)
	if missing == nil {
		missing = []string{}
	}
	a.record(ctx, p, "connector.create", c.Slug, map[string]any{"template": t.ID, "template_version": t.Version, "status": c.Status, "missing": missing})
	return c, missing
}

func (a *API) addFromTemplate(ctx *fasthttp.RequestCtx, p auth.Principal, id string) {
	t, ok := a.template(ctx, id)
	if !ok {
		return
	}
	var body instanceBody
	if len(ctx.PostBody()) > 0 {
		if err := decodeStrict(ctx.PostBody(), &body); err != nil {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
			return
		}
	}
	c, missing := a.createFromTemplate(ctx, p, t, body)
	if c == nil {
		return
	}
	ctx.Response.Header.Set("ETag", etag(c.Version))
	ctx.Response.Header.Set("Location", "/admin/v1/connectors/"+c.Slug)
	writeJSON(ctx, fasthttp.StatusCreated, map[string]any{"connector": a.viewWithReach(detach(ctx), c), "missing": missing})
}
