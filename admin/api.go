// Package admin serves the admin API under /admin/v1: REST and JSON, bearer
// auth (checked by core/server), consistent error bodies. This file holds
// the router and the shared helpers; each resource has its own file.
package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/catalog"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/netguard"
)

// ConnectorStore persists connectors (core/store implements it).
type ConnectorStore interface {
	Create(ctx context.Context, c *connector.Connector) error
	Get(ctx context.Context, slug string) (*connector.Connector, error)
	List(ctx context.Context) ([]*connector.Connector, error)
	Update(ctx context.Context, slug string, expectedVersion int64, mutate func(*connector.Connector) error) (*connector.Connector, error)
	Delete(ctx context.Context, slug string) error
}

// CredentialStore keeps users' placeholder values.
type CredentialStore interface {
	Set(ctx context.Context, user, slug string, values map[string]string) error
	// DeleteAll removes every user's values for the connector, returning
	// how many users had some.
	DeleteAll(ctx context.Context, slug string) (int, error)
}

// UserStore persists users (core/store implements it).
type UserStore interface {
	Create(ctx context.Context, u *auth.User) error
	Get(ctx context.Context, id string) (*auth.User, error)
	List(ctx context.Context) ([]*auth.User, error)
	Update(ctx context.Context, id string, expectedVersion int64, mutate func(*auth.User) error) (*auth.User, error)
	Delete(ctx context.Context, id string) error
}

// TokenStore persists API token records (core/store implements it).
type TokenStore interface {
	Create(ctx context.Context, t *auth.Token) error
	Get(ctx context.Context, id string) (*auth.Token, error)
	List(ctx context.Context, user string) ([]*auth.Token, error)
	Revoke(ctx context.Context, id string) (*auth.Token, error)
}

// TemplateStore persists admins' own catalog templates.
type TemplateStore interface {
	Create(ctx context.Context, t *catalog.Template) error
	List(ctx context.Context) ([]*catalog.Template, error)
	Delete(ctx context.Context, id string) error
}

// RequestStore persists connector requests.
type RequestStore interface {
	Create(ctx context.Context, r *catalog.Request) error
	Get(ctx context.Context, id string) (*catalog.Request, error)
	List(ctx context.Context, requester, status string) ([]*catalog.Request, error)
	Update(ctx context.Context, id string, expectedVersion int64, mutate func(*catalog.Request) error) (*catalog.Request, error)
}

// Authorizer decides admin API access and holds role bindings: users'
// roles, and groups and role inheritance (core/policy.Admin implements
// it).
type Authorizer interface {
	Allowed(user, obj, act string) (bool, error)
	Roles(user string) []string
	DirectRoles(user string) []string
	KnownRoles() []string
	SetRoles(user string, roles []string) error
	ForgetUser(user string) error
	RoleGraph
}

// AuditLog is the append-only audit log (core/audit.Log implements it).
type AuditLog interface {
	Append(ctx context.Context, e *audit.Entry) error
	Query(ctx context.Context, f audit.Filter, fn func(*audit.Entry) (bool, error)) error
}

// Sessions is told when a connector changes so open sessions re-dial.
type Sessions interface {
	ConnectorChanged(slug string)
}

// Errors from the store the API maps to statuses.
type StoreErrors struct {
	NotFound, Conflict, VersionMismatch error
}

// Deps is what the admin API is built from.
type Deps struct {
	Connectors  ConnectorStore
	Credentials CredentialStore
	Users       UserStore
	Tokens      TokenStore
	Templates   TemplateStore
	Requests    RequestStore
	// Builtin is the catalog shipped with the binary.
	Builtin []*catalog.Template
	Authz   Authorizer
	// Guards manages ToolGuard modules; nil disables the guard endpoints.
	Guards GuardManager
	// Pins shows and approves pinned tool definitions; nil disables them.
	Pins ToolPins
	// Scanner lists a connector's tools for the pins at registration.
	Scanner ToolScanner
	// Policies holds the tool access rules; nil disables the endpoints.
	Policies PolicyEngine
	// Approvals holds calls waiting for an approval; nil disables them.
	Approvals ApprovalRegistry
	// Redirects holds the OAuth redirect-URI rules; nil disables them.
	Redirects RedirectRules
	Audit     AuditLog
	Registry  *connector.Registry
	Sessions  Sessions
	Errs      StoreErrors
	Log       zerolog.Logger
	// AnonymousUser is the user anonymous MCP clients act as ("" when
	// client auth is required); it is not a stored user. AnonymousRoles
	// are its roles while none is bound to it.
	AnonymousUser  string
	AnonymousRoles []string
	// STDIO says who may set STDIO commands through the API.
	STDIO STDIOPolicy
	// AllowPrivateUpstreams mirrors upstream.allow_private_networks: when
	// off, a connector URL on a refused address gets a notice at create.
	AllowPrivateUpstreams bool
	// Resolver resolves connector hosts for that notice (nil: the
	// system's).
	Resolver Resolver
	// SettingsStore keeps the run-time settings; nil disables /settings.
	SettingsStore SettingsStore
	// PrivateExceptions is the SSRF guard's run-time allow-list, updated
	// when the settings change.
	PrivateExceptions *netguard.Exceptions
	// PublicURL is the gateway's base URL as clients reach it, without a
	// trailing slash ("http://127.0.0.1:8080").
	PublicURL string
	// Plugins lists the plugins for GET /plugins (nil: none).
	Plugins PluginLister
	// PluginTransports are the transport names loaded plugins serve; a
	// connector may use one of them besides the built-in transports.
	PluginTransports []string
	// OAuth is the authorization server (passwords, clients); nil when
	// it is disabled.
	OAuth OAuthAdmin
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// UpstreamAuth holds users' upstream OAuth connections; nil disables
	// the connect endpoints.
	UpstreamAuth UpstreamConnections
	// IdentityKeys signs forwarded identity JWTs; nil disables
	// /identity-forward/keys/rotate.
	IdentityKeys IdentityKeys
}

// API is the admin API.
type API struct {
	Deps
}

// New returns the admin API.
func New(d Deps) *API {
	if d.Now == nil {
		d.Now = func() time.Time { return time.Now().UTC() }
	}
	return &API{Deps: d}
}

// ServeAdmin routes an authenticated admin request.
func (a *API) ServeAdmin(ctx *fasthttp.RequestCtx, p auth.Principal) {
	path := strings.TrimPrefix(string(ctx.Path()), "/admin/v1")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	method := string(ctx.Method())
	if a.routeOAuthPaths(ctx, p, method, parts) {
		return
	}
	switch parts[0] {
	case "connectors":
		a.routeConnectors(ctx, p, method, parts[1:])
	case "users":
		a.routeUsers(ctx, p, method, parts[1:])
	case "tokens":
		a.routeTokens(ctx, p, method, parts[1:])
	case "roles":
		a.routeRoles(ctx, p, method, parts[1:])
	case "audit":
		a.routeAudit(ctx, p, method, parts[1:])
	case "catalog":
		a.routeCatalog(ctx, p, method, parts[1:])
	case "requests":
		a.routeRequests(ctx, p, method, parts[1:])
	case "policies":
		a.routePolicies(ctx, p, method, parts[1:])
	case "guards":
		a.routeGuards(ctx, p, method, parts[1:])
	case "approvals":
		a.routeApprovals(ctx, p, method, parts[1:])
	case "groups":
		a.routeGroups(ctx, p, method, parts[1:])
	case "analytics":
		a.routeAnalytics(ctx, p, method, parts[1:])
	case "me":
		a.routeMe(ctx, p, method, parts[1:])
	case "settings":
		a.routeSettings(ctx, p, method, parts[1:])
	case "plugins":
		a.routePlugins(ctx, p, method, parts[1:])
	case "redirects":
		a.routeRedirects(ctx, p, method, parts[1:])
	case "identity-forward":
		a.routeIdentityForward(ctx, p, method, parts[1:])
	default:
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such admin endpoint", "")
	}
}

// allow checks that p may perform act on obj and answers 403 when not.
func (a *API) allow(ctx *fasthttp.RequestCtx, p auth.Principal, obj, act string) bool {
	ok, err := a.Authz.Allowed(p.User, obj, act)
	if err != nil {
		a.internal(ctx, err)
		return false
	}
	if !ok {
		writeError(ctx, fasthttp.StatusForbidden, "forbidden",
			fmt.Sprintf("your roles (%s) do not allow %s on %s", strings.Join(p.Roles, ", "), act, obj), "")
		return false
	}
	return true
}

// can reports whether p may perform act on obj, without answering.
func (a *API) can(p auth.Principal, obj, act string) bool {
	ok, err := a.Authz.Allowed(p.User, obj, act)
	return err == nil && ok
}

// methodNotAllowed answers a method the path does not support.
func methodNotAllowed(ctx *fasthttp.RequestCtx, method string) {
	writeError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", method+" is not supported on this path", "")
}

// record writes an admin action to the audit log before the response is
// sent: an action is acknowledged once both it and its entry are durable.
// The action itself is already committed, so a failed audit write is
// logged loudly rather than reported as a failed action.
func (a *API) record(ctx *fasthttp.RequestCtx, p auth.Principal, action, target string, details map[string]any) {
	slug := aboutConnector(action, target, details)
	sensitive := false
	if c, ok := a.Registry.Lookup(slug); ok && slug != "" {
		sensitive = c.Advanced.Sensitive
	}
	a.recordAbout(ctx, p, action, target, slug, sensitive, details)
}

// aboutConnector is the connector an admin action is about, if one: the
// target of connector.* and tool.* actions, else a "connector" detail
// naming one ("*", every connector, is none).
func aboutConnector(action, target string, details map[string]any) string {
	if strings.HasPrefix(action, "connector.") || strings.HasPrefix(action, "tool.") {
		return target
	}
	if c, ok := details["connector"].(string); ok && c != "*" {
		return c
	}
	return ""
}

// recordAbout appends an admin action about connector slug: an entry
// about a sensitive connector is marked sensitive, so readers outside
// its roles see it redacted (no target, slug or details).
func (a *API) recordAbout(ctx *fasthttp.RequestCtx, p auth.Principal, action, target, slug string, sensitive bool, details map[string]any) {
	e := &audit.Entry{Actor: p.User, TokenID: p.TokenID, Action: action, Target: target, Details: details, Connector: slug, Sensitive: sensitive}
	if err := a.Audit.Append(detach(ctx), e); err != nil {
		a.Log.Error().Err(err).Str("action", action).Str("target", target).Msg("AUDIT WRITE FAILED for a committed admin action")
	}
}

// errorBody is the one error shape of the admin API.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

func writeError(ctx *fasthttp.RequestCtx, status int, code, message, field string) {
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Field = code, message, field
	writeJSON(ctx, status, b)
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		ctx.Error(`{"error":{"code":"internal","message":"encode response"}}`, fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

// decodeStrict decodes a JSON body, refusing unknown fields and trailing data.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("the request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return errors.New("invalid JSON: data after the object")
	}
	return nil
}

// fieldOf extracts the field name from a strict-decoding error, if any.
func fieldOf(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, `unknown field "`); i >= 0 {
		rest := msg[i+len(`unknown field "`):]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			return rest[:j]
		}
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return typeErr.Field
	}
	return ""
}

// detach gives store calls a context that a client hanging up does not
// cancel: an admin write, once started, completes and is durable, never
// half-done.
func detach(ctx *fasthttp.RequestCtx) context.Context { return context.WithoutCancel(ctx) }
