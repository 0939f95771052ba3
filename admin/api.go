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

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
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
}

// Sessions is told when a connector changes so open sessions re-dial.
type Sessions interface {
	ConnectorChanged(slug string)
}

// Errors from the store the API maps to statuses.
type StoreErrors struct {
	NotFound, Conflict, VersionMismatch error
}

// API is the admin API.
type API struct {
	connectors ConnectorStore
	creds      CredentialStore
	registry   *connector.Registry
	sessions   Sessions
	errs       StoreErrors
	log        zerolog.Logger
}

// New returns the admin API.
func New(connectors ConnectorStore, creds CredentialStore, registry *connector.Registry, sessions Sessions, errs StoreErrors, log zerolog.Logger) *API {
	return &API{connectors: connectors, creds: creds, registry: registry, sessions: sessions, errs: errs, log: log}
}

// ServeAdmin routes an authenticated admin request.
func (a *API) ServeAdmin(ctx *fasthttp.RequestCtx, p auth.Principal) {
	path := strings.TrimPrefix(string(ctx.Path()), "/admin/v1")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	method := string(ctx.Method())
	switch {
	case len(parts) >= 1 && parts[0] == "connectors":
		a.routeConnectors(ctx, p, method, parts[1:])
	default:
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such admin endpoint", "")
	}
}

func (a *API) requireAdmin(ctx *fasthttp.RequestCtx, p auth.Principal) bool {
	if !p.IsAdmin() {
		writeError(ctx, fasthttp.StatusForbidden, "forbidden", "this action needs the owner or admin role", "")
		return false
	}
	return true
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
