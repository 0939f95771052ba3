package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// redacted replaces secret values in responses; sending it back in a
// PATCH keeps the stored value.
const redacted = "[redacted]"

func (a *API) routeConnectors(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	if a.routeConnection(ctx, p, method, rest) {
		return
	}
	switch {
	case len(rest) == 0 && method == fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResConnectors, policy.ActRead) {
			a.listConnectors(ctx, p)
		}
	case len(rest) == 0 && method == fasthttp.MethodPost:
		a.createConnector(ctx, p)
	case len(rest) == 1 && method == fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResConnectors, policy.ActRead) {
			a.getConnector(ctx, p, rest[0])
		}
	case len(rest) == 2 && rest[1] == "setup" && method == fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResConnectors, policy.ActRead) {
			a.connectorSetup(ctx, p, rest[0])
		}
	case len(rest) == 1 && method == fasthttp.MethodPatch:
		a.patchConnector(ctx, p, rest[0])
	case len(rest) == 1 && method == fasthttp.MethodDelete:
		a.deleteConnector(ctx, p, rest[0])
	case len(rest) == 2 && rest[1] == "tools" && method == fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResConnectors, policy.ActRead) {
			a.connectorTools(ctx, p, rest[0])
		}
	case len(rest) == 3 && rest[1] == "tools" && rest[2] == "scan" && method == fasthttp.MethodPost:
		if a.allow(ctx, p, policy.ResConnectors, policy.ActWrite) {
			a.scanConnector(ctx, p, rest[0])
		}
	case len(rest) == 4 && rest[1] == "tools" && rest[3] == "approve" && method == fasthttp.MethodPost:
		if a.allow(ctx, p, policy.ResConnectors, policy.ActWrite) {
			a.approveTool(ctx, p, rest[0], rest[2])
		}
	case len(rest) == 2 && rest[1] == "credentials" && method == fasthttp.MethodPut:
		if a.allow(ctx, p, policy.ResCredentials, policy.ActWrite) {
			a.putCredentials(ctx, p, rest[0])
		}
	default:
		methodNotAllowed(ctx, method)
	}
}

// connectorView is a connector as the API shows it: secrets redacted, the
// placeholders a user must fill listed.
type connectorView struct {
	*connector.Connector
	Placeholders []string `json:"placeholders,omitempty"`
	TokenSet     bool     `json:"auth_token_set,omitempty"`
	// Notices say what the connector's settings change in enforcement
	// (skip_input_validation: no schema checks, no payload conditions).
	Notices []string `json:"notices,omitempty"`
}

// SkipValidationNotice is shown on connectors that skip input validation.
const SkipValidationNotice = "input validation is skipped: tool arguments are not checked against their schemas, and tool rules' payload conditions are not evaluated on this connector: conditional allow rules do not apply, conditional deny and require-approval rules apply to every call"

// viewWithReach is view(c) with the reach notice, for the answers to a
// create or change (a listing does not resolve every host).
func (a *API) viewWithReach(ctx context.Context, c *connector.Connector) connectorView {
	v := view(c)
	if n := a.reachNotice(ctx, c); n != "" {
		v.Notices = append(v.Notices, n)
	}
	return v
}

func view(c *connector.Connector) connectorView {
	cp := *c
	if cp.Auth.Token != "" {
		cp.Auth.Token = redacted
	}
	if o := cp.Auth.OAuth2; o != nil && o.ClientSecret != "" {
		oc := *o
		oc.ClientSecret = redacted
		cp.Auth.OAuth2 = &oc
	}
	cp.Env = redactMap(c.Env, false)
	cp.Headers = redactMap(c.Headers, true)
	v := connectorView{Connector: &cp, Placeholders: c.Placeholders(), TokenSet: c.Auth.Token != ""}
	if c.Advanced.SkipInputValidation {
		v.Notices = append(v.Notices, SkipValidationNotice)
	}
	return v
}

// redactMap hides values. With keepPlaceholders, a value holding
// {PLACEHOLDER}s shows their names (what a user must fill in) and hides
// the literal text around them, which may be a secret of its own
// ("static-SECRET-{TENANT}" shows as "[redacted]{TENANT}").
func redactMap(m map[string]string, keepPlaceholders bool) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if keepPlaceholders && strings.Contains(v, "{") {
			out[k] = maskLiterals(v)
			continue
		}
		out[k] = redacted
	}
	return out
}

// maskLiterals keeps a header value's {PLACEHOLDER}s and replaces each
// run of literal text between them with [redacted].
func maskLiterals(v string) string {
	var b strings.Builder
	last := 0
	for _, loc := range connector.PlaceholderSpans(v) {
		if loc[0] > last {
			b.WriteString(redacted)
		}
		b.WriteString(v[loc[0]:loc[1]])
		last = loc[1]
	}
	if last < len(v) {
		b.WriteString(redacted)
	}
	return b.String()
}

func (a *API) listConnectors(ctx *fasthttp.RequestCtx, p auth.Principal) {
	args := ctx.QueryArgs()
	f := connector.Filter{
		Query:     string(args.Peek("query")),
		Status:    connector.Status(args.Peek("status")),
		Transport: connector.Transport(args.Peek("transport")),
		Hosting:   string(args.Peek("hosting")),
	}
	page, ok := readPage(ctx)
	if !ok {
		return
	}
	matches := a.Registry.Search(f, func(c *connector.Connector) bool { return c.VisibleTo(p.User, p.Roles) })
	items, next := paginate(matches, page, func(c *connector.Connector) string { return c.Slug })
	out := make([]connectorView, len(items))
	for i, c := range items {
		out[i] = view(c)
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"connectors": out, "total": len(matches), "next_cursor": next})
}

func (a *API) createConnector(ctx *fasthttp.RequestCtx, p auth.Principal) {
	if !a.allow(ctx, p, policy.ResConnectors, policy.ActWrite) {
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
	if !a.validate(ctx, &c) || !a.mayLaunch(ctx, p, nil, &c, nil) {
		return
	}
	if err := a.Connectors.Create(detach(ctx), &c); err != nil {
		if errors.Is(err, a.Errs.Conflict) {
			writeError(ctx, fasthttp.StatusConflict, "conflict", "a connector with slug \""+c.Slug+"\" already exists", "slug")
			return
		}
		a.internal(ctx, err)
		return
	}
	a.Registry.Put(&c)
	a.record(ctx, p, "connector.create", c.Slug, map[string]any{"status": c.Status, "transport": c.Transport})
	a.scanSoon(&c)
	ctx.Response.Header.Set("ETag", etag(c.Version))
	ctx.Response.Header.Set("Location", "/admin/v1/connectors/"+c.Slug)
	writeJSON(ctx, fasthttp.StatusCreated, a.viewWithReach(detach(ctx), &c))
}

func (a *API) validate(ctx *fasthttp.RequestCtx, c *connector.Connector) bool {
	// An unknown transport first: its other fields are the plugin's.
	err := a.transportError(c)
	if err == nil {
		err = c.Validate()
	}
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
	c, err := a.Connectors.Get(detach(ctx), slug)
	if err != nil || !c.VisibleTo(p.User, p.Roles) {
		if err == nil || errors.Is(err, a.Errs.NotFound) {
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
	if !a.allow(ctx, p, policy.ResConnectors, policy.ActWrite) {
		return
	}
	before, ok := a.load(ctx, p, slug)
	if !ok {
		return
	}
	var patch map[string]json.RawMessage
	if err := decodeStrict(ctx.PostBody(), &patch); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), "")
		return
	}
	keepSecrets, ok := takeKeepSecrets(ctx, patch)
	if !ok {
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
	if next, err := applyPatch(before, patch); err == nil && !a.secretsFollow(ctx, before, next, keepSecrets) {
		return
	}
	var fieldErr error
	refused := false
	updated, err := a.Connectors.Update(detach(ctx), slug, expected, func(c *connector.Connector) error {
		next, err := applyPatch(c, patch)
		if err != nil {
			fieldErr = err
			return err
		}
		if err := a.transportError(next); err != nil {
			fieldErr = err
			return err
		}
		if err := next.Validate(); err != nil {
			fieldErr = err
			return err
		}
		// Checked on the stored version the write replaces, so a
		// concurrent change cannot slip a command or a host past them.
		if !a.mayLaunch(ctx, p, c, next, nil) || hostChanged(c, next) && !hostChanged(before, next) {
			refused = true
			if hostChanged(c, next) && !hostChanged(before, next) {
				writeError(ctx, fasthttp.StatusPreconditionFailed, "version_mismatch", "the connector's URL changed since you read it; GET it again and retry", "url")
			}
			return errLaunchRefused
		}
		*c = *next
		return nil
	})
	if refused {
		return // mayLaunch has answered
	}
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
	case errors.Is(err, a.Errs.VersionMismatch):
		writeError(ctx, fasthttp.StatusPreconditionFailed, "version_mismatch", "the connector changed since you read it; GET it again and retry", "version")
		return
	case err != nil:
		a.internal(ctx, err)
		return
	}
	a.Registry.Put(updated)
	a.Sessions.ConnectorChanged(slug)
	fields := make([]string, 0, len(patch))
	for k := range patch {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	details := map[string]any{"fields": fields}
	if hostChanged(before, updated) {
		details["host"] = map[string]any{"from": hostOf(before.URL), "to": hostOf(updated.URL), "secrets_kept": keepSecrets}
		if !keepSecrets {
			n, err := a.Credentials.DeleteAll(detach(ctx), slug)
			if err != nil {
				a.internal(ctx, err)
				return
			}
			details["credentials_cleared"] = n
		}
	}
	a.record(ctx, p, "connector.update", slug, details)
	if before.Status != updated.Status {
		a.record(ctx, p, "connector.status", slug, map[string]any{"from": before.Status, "to": updated.Status})
	}
	a.scanSoon(updated)
	ctx.Response.Header.Set("ETag", etag(updated.Version))
	writeJSON(ctx, fasthttp.StatusOK, a.viewWithReach(detach(ctx), updated))
}

// takeKeepSecrets removes keep_secrets from patch and returns it; it
// answers 400 when it is not a boolean.
func takeKeepSecrets(ctx *fasthttp.RequestCtx, patch map[string]json.RawMessage) (bool, bool) {
	raw, ok := patch["keep_secrets"]
	if !ok {
		return false, true
	}
	delete(patch, "keep_secrets")
	var keep bool
	if err := json.Unmarshal(raw, &keep); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_field", "keep_secrets must be true or false", "keep_secrets")
		return false, false
	}
	return keep, true
}

// hostOf is the host (and port) of a connector URL, lower-cased.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// hostChanged reports whether next's URL reaches another host than c's.
func hostChanged(c, next *connector.Connector) bool {
	return c.URL != "" && next.URL != "" && hostOf(c.URL) != hostOf(next.URL)
}

// secretsFollow answers 409 when the patch moves the connector to another
// host while stored secrets (its upstream token, literal header values)
// would go there unchanged: the caller re-enters them in the same patch,
// or says keep_secrets: true. Users' placeholder values are cleared on a
// host change unless keep_secrets (they are the users' to re-enter).
func (a *API) secretsFollow(ctx *fasthttp.RequestCtx, before, next *connector.Connector, keep bool) bool {
	if keep || !hostChanged(before, next) {
		return true
	}
	var stale []string
	if before.Auth.Token != "" && next.Auth.Token == before.Auth.Token {
		stale = append(stale, "auth.token")
	}
	if bo, no := before.Auth.OAuth2, next.Auth.OAuth2; bo != nil && no != nil && bo.ClientSecret != "" && no.ClientSecret == bo.ClientSecret {
		stale = append(stale, "auth.oauth2.client_secret")
	}
	for k, v := range before.Headers {
		if next.Headers[k] == v && maskLiterals(v) != v {
			stale = append(stale, "headers."+k)
		}
	}
	if len(stale) == 0 {
		return true
	}
	sort.Strings(stale)
	writeError(ctx, fasthttp.StatusConflict, "secrets_reentry",
		"the URL moves the connector from "+hostOf(before.URL)+" to "+hostOf(next.URL)+", and the stored "+strings.Join(stale, ", ")+
			" would be sent there: send new values in the same request, or set \"keep_secrets\": true to keep them (users' placeholder values are cleared unless you keep them)", stale[0])
	return false
}

// errLaunchRefused aborts a connector update mayLaunch refused.
var errLaunchRefused = errors.New("launch refused")

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
	if o := next.Auth.OAuth2; o != nil && o.ClientSecret == redacted && prev.Auth.OAuth2 != nil {
		o.ClientSecret = prev.Auth.OAuth2.ClientSecret
	}
	for k, v := range next.Env {
		if v == redacted {
			next.Env[k] = prev.Env[k]
		}
	}
	for k, v := range next.Headers {
		// A value sent back as shown keeps the stored one.
		if old, ok := prev.Headers[k]; ok && (v == redacted || strings.Contains(old, "{") && v == maskLiterals(old)) {
			next.Headers[k] = old
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
	if !a.allow(ctx, p, policy.ResConnectors, policy.ActWrite) {
		return
	}
	c, ok := a.load(ctx, p, slug)
	if !ok {
		return
	}
	if err := a.Connectors.Delete(detach(ctx), slug); err != nil {
		if errors.Is(err, a.Errs.NotFound) {
			writeError(ctx, fasthttp.StatusNotFound, "not_found", "connector \""+slug+"\" not found", "")
			return
		}
		a.internal(ctx, err)
		return
	}
	a.Registry.Remove(slug)
	a.Sessions.ConnectorChanged(slug)
	a.recordAbout(ctx, p, "connector.delete", slug, slug, c.Advanced.Sensitive, a.forgetConnections(ctx, c, ""))
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
	if err := a.Credentials.Set(detach(ctx), p.User, slug, body.Values); err != nil {
		a.internal(ctx, err)
		return
	}
	names := make([]string, 0, len(body.Values))
	for k := range body.Values {
		names = append(names, k)
	}
	sort.Strings(names)
	a.record(ctx, p, "connector.credentials.set", slug, map[string]any{"placeholders": names})
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func (a *API) internal(ctx *fasthttp.RequestCtx, err error) {
	a.Log.Error().Err(err).Str("path", string(ctx.Path())).Msg("admin request failed")
	writeError(ctx, fasthttp.StatusInternalServerError, "internal", "internal error; see the gateway log", "")
}
