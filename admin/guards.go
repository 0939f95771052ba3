package admin

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/guards/host"
)

// GuardManager loads, orders and configures ToolGuard modules
// (core/toolguard.Manager implements it).
type GuardManager interface {
	List() []toolguard.Record
	Upload(ctx context.Context, name string, code []byte, config, by string) (*toolguard.Record, error)
	Update(ctx context.Context, name string, enabled *bool, order *int) (*toolguard.Record, error)
	Delete(ctx context.Context, name string) error
	Settings() toolguard.Settings
	SetSettings(ctx context.Context, s toolguard.Settings) error
}

func (a *API) routeGuards(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	if a.Guards == nil {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "ToolGuard is not enabled on this gateway", "")
		return
	}
	read := method == fasthttp.MethodGet
	act := policy.ActWrite
	if read {
		act = policy.ActRead
	}
	if !a.allow(ctx, p, policy.ResGuards, act) {
		return
	}
	switch {
	case len(rest) == 0 && read:
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"guards": a.Guards.List(), "settings": a.Guards.Settings()})
	case len(rest) == 0 && method == fasthttp.MethodPost:
		a.uploadGuard(ctx, p)
	case len(rest) == 1 && rest[0] == "settings" && read:
		writeJSON(ctx, fasthttp.StatusOK, a.Guards.Settings())
	case len(rest) == 1 && rest[0] == "settings" && method == fasthttp.MethodPut:
		a.putGuardSettings(ctx, p)
	case len(rest) == 1 && method == fasthttp.MethodPatch:
		a.patchGuard(ctx, p, rest[0])
	case len(rest) == 1 && method == fasthttp.MethodDelete:
		if err := a.Guards.Delete(detach(ctx), rest[0]); err != nil {
			a.guardError(ctx, err)
			return
		}
		a.record(ctx, p, "guard.delete", rest[0], nil)
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	default:
		methodNotAllowed(ctx, method)
	}
}

// uploadGuard takes the module as the raw body (application/wasm), its
// name and optional JSON configuration as query parameters.
func (a *API) uploadGuard(ctx *fasthttp.RequestCtx, p auth.Principal) {
	name := string(ctx.QueryArgs().Peek("name"))
	config := string(ctx.QueryArgs().Peek("config"))
	if config != "" && !json.Valid([]byte(config)) {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "config must be a JSON document", "config")
		return
	}
	code := ctx.PostBody()
	if len(code) == 0 {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_request", "send the module's bytes as the body (Content-Type: application/wasm)", "")
		return
	}
	rec, err := a.Guards.Upload(detach(ctx), name, append([]byte(nil), code...), config, p.User)
	if err != nil {
		a.guardError(ctx, err)
		return
	}
	a.record(ctx, p, "guard.upload", rec.Name, map[string]any{"sha256": rec.SHA256, "size": rec.Size, "hooks": rec.Hooks})
	writeJSON(ctx, fasthttp.StatusCreated, rec)
}

func (a *API) patchGuard(ctx *fasthttp.RequestCtx, p auth.Principal, name string) {
	var body struct {
		Enabled *bool `json:"enabled"`
		Order   *int  `json:"order"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	rec, err := a.Guards.Update(detach(ctx), name, body.Enabled, body.Order)
	if err != nil {
		a.guardError(ctx, err)
		return
	}
	details := map[string]any{}
	if body.Enabled != nil {
		details["enabled"] = *body.Enabled
	}
	if body.Order != nil {
		details["order"] = *body.Order
	}
	a.record(ctx, p, "guard.update", name, details)
	writeJSON(ctx, fasthttp.StatusOK, rec)
}

func (a *API) putGuardSettings(ctx *fasthttp.RequestCtx, p auth.Principal) {
	s := a.Guards.Settings()
	if err := decodeStrict(ctx.PostBody(), &s); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	if err := a.Guards.SetSettings(detach(ctx), s); err != nil {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), "")
		return
	}
	a.record(ctx, p, "guard.settings", "", map[string]any{"sensitivity": s.Sensitivity, "fail_mode": s.FailMode, "connectors": len(s.Connectors)})
	writeJSON(ctx, fasthttp.StatusOK, s)
}

func (a *API) guardError(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, toolguard.ErrUnknownGuard):
		writeError(ctx, fasthttp.StatusNotFound, "not_found", err.Error(), "")
	case errors.Is(err, toolguard.ErrBuiltin):
		writeError(ctx, fasthttp.StatusConflict, "builtin", err.Error(), "name")
	case errors.Is(err, toolguard.ErrBadName):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), "name")
	case errors.Is(err, host.ErrABI), errors.Is(err, host.ErrTrap), errors.Is(err, host.ErrInput), errors.Is(err, host.ErrTimeout):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_module", err.Error(), "")
	default:
		a.internal(ctx, err)
	}
}
