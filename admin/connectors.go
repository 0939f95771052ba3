package admin

import (
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

// redacted replaces secret values in responses; sending it back in a
// PATCH keeps the stored value.
const redacted = "[redacted]"

func (a *API) routeConnectors(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	switch {
	case len(rest) == 0 && method == fasthttp.MethodGet:
		a.listConnectors(ctx, p)
	case len(rest) == 0 && method == fasthttp.MethodPost:
		a.createConnector(ctx, p)
	case len(rest) == 1 && method == fasthttp.MethodGet:
		a.getConnector(ctx, p, rest[0])
	case len(rest) == 1 && method == fasthttp.MethodPatch:
		a.patchConnector(ctx, p, rest[0])
	case len(rest) == 1 && method == fasthttp.MethodDelete:
		a.deleteConnector(ctx, p, rest[0])
	case len(rest) == 2 && rest[1] == "credentials" && method == fasthttp.MethodPut:
		a.putCredentials(ctx, p, rest[0])
	default:
		writeError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", method+" is not supported on this path", "")
	}
}

// connectorView is a connector as the API shows it: secrets redacted, the
// placeholders a user must fill listed.
type connectorView struct {
	*connector.Connector
	Placeholders []string `json:"placeholders,omitempty"`
	TokenSet     bool     `json:"auth_token_set,omitempty"`
}

func view(c *connector.Connector) connectorView {
	cp := *c
	if cp.Auth.Token != "" {
		cp.Auth.Token = redacted
	}
	cp.Env = redactMap(c.Env, false)
	cp.Headers = redactMap(c.Headers, true)
	return connectorView{Connector: &cp, Placeholders: c.Placeholders(), TokenSet: c.Auth.Token != ""}
}

// redactMap hides values; header values made only of text around
// {PLACEHOLDER}s are shown when keepPlaceholders, since the secret is the
// user's and not stored here.
func redactMap(m map[string]string, keepPlaceholders bool) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if keepPlaceholders && strings.Contains(v, "{") {
			out[k] = v
			continue
		}
		out[k] = redacted
	}
	return out
}

func (a *API) listConnectors(ctx *fasthttp.RequestCtx, p auth.Principal) {
	list, err := a.connectors.List(detach(ctx))
	if err != nil {
		a.internal(ctx, err)
		return
	}
	args := ctx.QueryArgs()
	query := strings.ToLower(string(args.Peek("query")))
	status := string(args.Peek("status"))
	transport := string(args.Peek("transport"))
	out := make([]connectorView, 0, len(list))
	for _, c := range list {
		if !c.VisibleTo(p.User) {
			continue
		}
		if status != "" && string(c.Status) != status || transport != "" && string(c.Transport) != transport {
			continue
		}
		if query != "" && !strings.Contains(strings.ToLower(c.Name), query) && !strings.Contains(strings.ToLower(c.Description), query) &&
			!strings.Contains(c.Slug, query) {
			continue
		}
		out = append(out, view(c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Slug < out[j].Slug })
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"connectors": out, "total": len(out)})
}

func (a *API) createConnector(ctx *fasthttp.RequestCtx, p auth.Principal) {
	if !a.requireAdmin(ctx, p) {
		return
	}
	var c connector.Connector
	if err := decodeStrict(ctx.PostBody(), &c); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	// Server-owned fields cannot be set by the caller.
	c.ID, c.Version, c.Owner = "", 0, p.User
	c.Normalize()
	if !a.validate(ctx, &c) {
		return
	}
	if err := a.connectors.Create(detach(ctx), &c); err != nil {
		if errors.Is(err, a.errs.Conflict) {
			writeError(ctx, fasthttp.StatusConflict, "conflict", "a connector with slug \""+c.Slug+"\" already exists", "slug")
			return
		}
		a.internal(ctx, err)
		return
	}
	a.registry.Put(&c)
	a.audit(p, "connector.create", c.Slug)
	ctx.Response.Header.Set("ETag", etag(c.Version))
	ctx.Response.Header.Set("Location", "/admin/v1/connectors/"+c.Slug)
	writeJSON(ctx, fasthttp.StatusCreated, view(&c))
}

func (a *API) validate(ctx *fasthttp.RequestCtx, c *connector.Connector) bool {
	err := c.Validate()
	if err == nil {
		return true
	}
	var fe *connector.FieldError
	if errors.As(err, &fe) {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), fe.Field)
	} else {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid", err.Error(), "")
	}
	return false
}

// load fetches a connector the caller may see, answering 404 otherwise
// (drafts of others do not exist for the caller).
func (a *API) load(ctx *fasthttp.RequestCtx, p auth.Principal, slug string) (*connector.Connector, bool) {
	c, err := a.connectors.Get(detach(ctx), slug)
	if err != nil || !c.VisibleTo(p.User) {
		if err == nil || errors.Is(err, a.errs.NotFound) {
			writeError(ctx, fasthttp.StatusNotFound, "not_found", "connector \""+slug+"\" not found", "")
			return nil, false
		}
		a.internal(ctx, err)
		return nil, false
	}
	return c, true
}

func (a *API) getConnector(ctx *fasthttp.RequestCtx, p auth.Principal, slug string) {
	c, ok := a.load(ctx, p, slug)
	if !ok {
		return
	}
	ctx.Response.Header.Set("ETag", etag(c.Version))
	writeJSON(ctx, fasthttp.StatusOK, view(c))
}

// patchableFields are the top-level fields PATCH accepts (merge patch).
var patchableFields = map[string]bool{
	"name": true, "description": true, "transport": true, "url": true, "command": true, "args": true,
	"env": true, "headers": true, "auth": true, "status": true, "advanced": true, "version": true,
}

func (a *API) patchConnector(ctx *fasthttp.RequestCtx, p auth.Principal, slug string) {
	if !a.requireAdmin(ctx, p) {
		return
	}
	if _, ok := a.load(ctx, p, slug); !ok {
		return
	}
	var patch map[string]json.RawMessage
	if err := decodeStrict(ctx.PostBody(), &patch); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), "")
		return
	}
	for k := range patch {
		if !patchableFields[k] {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_field", "field \""+k+"\" cannot be changed", k)
			return
		}
	}
	expected, err := expectedVersion(ctx, patch)
	if err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_field", err.Error(), "version")
		return
	}
	delete(patch, "version")
	var fieldErr error
	updated, err := a.connectors.Update(detach(ctx), slug, expected, func(c *connector.Connector) error {
		next, err := applyPatch(c, patch)
		if err != nil {
			fieldErr = err
			return err
		}
		if err := next.Validate(); err != nil {
			fieldErr = err
			return err
		}
		*c = *next
		return nil
	})
	if fieldErr == nil {
		var fe *connector.FieldError
		if errors.As(err, &fe) {
			fieldErr = err
		}
	}
	switch {
	case fieldErr != nil:
		var fe *connector.FieldError
		if errors.As(fieldErr, &fe) {
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", fieldErr.Error(), fe.Field)
		} else {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", fieldErr.Error(), fieldOf(fieldErr))
		}
		return
	case errors.Is(err, a.errs.VersionMismatch):
		writeError(ctx, fasthttp.StatusPreconditionFailed, "version_mismatch", "the connector changed since you read it; GET it again and retry", "version")
		return
	case err != nil:
		a.internal(ctx, err)
		return
	}
	a.registry.Put(updated)
	a.sessions.ConnectorChanged(slug)
	a.audit(p, "connector.update", slug)
	ctx.Response.Header.Set("ETag", etag(updated.Version))
	writeJSON(ctx, fasthttp.StatusOK, view(updated))
}

// applyPatch merges patch into a copy of c (RFC 7396 on the JSON form).
// Secret values sent back as "[redacted]" keep their stored value.
func applyPatch(c *connector.Connector, patch map[string]json.RawMessage) (*connector.Connector, error) {
	cur, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(cur, &doc); err != nil {
		return nil, err
	}
	for k, raw := range patch {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		doc[k] = mergePatch(doc[k], v)
	}
	merged, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var next connector.Connector
	if err := decodeStrict(merged, &next); err != nil {
		return nil, err
	}
	keepRedacted(&next, c)
	next.Normalize()
	return &next, nil
}

func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

func keepRedacted(next, prev *connector.Connector) {
	if next.Auth.Token == redacted {
		next.Auth.Token = prev.Auth.Token
	}
	for k, v := range next.Env {
		if v == redacted {
			next.Env[k] = prev.Env[k]
		}
	}
	for k, v := range next.Headers {
		if v == redacted {
			next.Headers[k] = prev.Headers[k]
		}
	}
}

// expectedVersion reads the version a write was based on, from If-Match or
// the body's "version"; 0 means unconditional.
func expectedVersion(ctx *fasthttp.RequestCtx, patch map[string]json.RawMessage) (int64, error) {
	if m := strings.Trim(string(ctx.Request.Header.Peek("If-Match")), `W/" `); m != "" {
		v, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			return 0, errors.New("If-Match must be an ETag returned by this API")
		}
		return v, nil
	}
	if raw, ok := patch["version"]; ok {
		var v int64
		if err := json.Unmarshal(raw, &v); err != nil {
			return 0, errors.New("version must be an integer")
		}
		return v, nil
	}
	return 0, nil
}

func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

func (a *API) deleteConnector(ctx *fasthttp.RequestCtx, p auth.Principal, slug string) {
	if !a.requireAdmin(ctx, p) {
		return
	}
	if _, ok := a.load(ctx, p, slug); !ok {
		return
	}
	if err := a.connectors.Delete(detach(ctx), slug); err != nil {
		if errors.Is(err, a.errs.NotFound) {
			writeError(ctx, fasthttp.StatusNotFound, "not_found", "connector \""+slug+"\" not found", "")
			return
		}
		a.internal(ctx, err)
		return
	}
	a.registry.Remove(slug)
	a.sessions.ConnectorChanged(slug)
	a.audit(p, "connector.delete", slug)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// putCredentials stores the caller's own values for the connector's
// header placeholders.
func (a *API) putCredentials(ctx *fasthttp.RequestCtx, p auth.Principal, slug string) {
	c, ok := a.load(ctx, p, slug)
	if !ok {
		return
	}
	var body struct {
		Values map[string]string `json:"values"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	known := map[string]bool{}
	for _, k := range c.Placeholders() {
		known[k] = true
	}
	for k := range body.Values {
		if !known[k] {
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "connector \""+slug+"\" has no placeholder {"+k+"}", "values."+k)
			return
		}
	}
	if err := a.creds.Set(detach(ctx), p.User, slug, body.Values); err != nil {
		a.internal(ctx, err)
		return
	}
	a.audit(p, "connector.credentials.set", slug)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func (a *API) internal(ctx *fasthttp.RequestCtx, err error) {
	a.log.Error().Err(err).Str("path", string(ctx.Path())).Msg("admin request failed")
	writeError(ctx, fasthttp.StatusInternalServerError, "internal", "internal error; see the gateway log", "")
}

// audit records an admin action. The audit log proper (issue 3) replaces
// this log line with an append-only store.
func (a *API) audit(p auth.Principal, action, target string) {
	a.log.Info().Str("actor", p.User).Str("action", action).Str("target", target).Msg("admin action")
}
