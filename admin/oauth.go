package admin

import (
	"context"
	"errors"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/auth/oauth"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// OAuthAdmin is the part of the OAuth authorization server the admin API
// manages: sign-in passwords and pre-registered clients (oauth.Server).
type OAuthAdmin interface {
	SetPassword(ctx context.Context, user, password string) error
	DeletePassword(ctx context.Context, user string) error
	CreateClient(ctx context.Context, actor string, spec oauth.ClientSpec) (*oauth.Client, string, error)
	Clients(ctx context.Context) ([]*oauth.Client, error)
	DeleteClient(ctx context.Context, id string) error
}

// routeOAuthPaths serves PUT|DELETE /users/{id}/password and
// /oauth/clients[/{id}]; it reports whether the path was one of them.
func (a *API) routeOAuthPaths(ctx *fasthttp.RequestCtx, p auth.Principal, method string, parts []string) bool {
	switch {
	case len(parts) == 3 && parts[0] == "users" && parts[2] == "password":
	case len(parts) >= 2 && len(parts) <= 3 && parts[0] == "oauth" && parts[1] == "clients":
	default:
		return false
	}
	if a.OAuth == nil {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "the OAuth authorization server is disabled (oauth.enabled)", "")
		return true
	}
	if parts[0] == "users" {
		a.routePassword(ctx, p, method, parts[1])
		return true
	}
	switch {
	case len(parts) == 2 && method == fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResSettings, policy.ActRead) {
			a.listOAuthClients(ctx)
		}
	case len(parts) == 2 && method == fasthttp.MethodPost:
		if a.allow(ctx, p, policy.ResSettings, policy.ActWrite) {
			a.createOAuthClient(ctx, p)
		}
	case len(parts) == 3 && method == fasthttp.MethodDelete:
		if a.allow(ctx, p, policy.ResSettings, policy.ActWrite) {
			a.deleteOAuthClient(ctx, p, parts[2])
		}
	default:
		methodNotAllowed(ctx, method)
	}
	return true
}

// routePassword sets or removes a user's sign-in password. Setting one
// lets whoever knows it act as the user, so the escalation rule applies:
// only for users whose every role the caller covers (or themselves).
func (a *API) routePassword(ctx *fasthttp.RequestCtx, p auth.Principal, method, user string) {
	obj := policy.ResUsers
	if user == p.User {
		obj = policy.ResUsersSelf
	}
	act := policy.ActWrite
	if method != fasthttp.MethodPut && method != fasthttp.MethodDelete {
		methodNotAllowed(ctx, method)
		return
	}
	if user == p.User {
		act = policy.ActRead // a user may set their own password
	}
	if !a.allow(ctx, p, obj, act) || !a.mayActOn(ctx, p, user) {
		return
	}
	if _, err := a.Users.Get(detach(ctx), user); err != nil {
		a.notFoundOr(ctx, err, "user \""+user+"\" not found")
		return
	}
	if method == fasthttp.MethodDelete {
		if err := a.OAuth.DeletePassword(detach(ctx), user); err != nil {
			a.internal(ctx, err)
			return
		}
		a.record(ctx, p, "user.password.delete", user, nil)
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	var body struct {
		Password string `json:"password"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	if err := a.OAuth.SetPassword(detach(ctx), user, body.Password); err != nil {
		if errors.Is(err, oauth.ErrBadPassword) {
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), "password")
			return
		}
		a.internal(ctx, err)
		return
	}
	a.record(ctx, p, "user.password.set", user, nil)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// oauthClientView is a client as the admin API shows it (no secret
// digest).
type oauthClientView struct {
	ID                      string    `json:"client_id"`
	Name                    string    `json:"client_name,omitempty"`
	RedirectURIs            []string  `json:"redirect_uris"`
	GrantTypes              []string  `json:"grant_types,omitempty"`
	TokenEndpointAuthMethod string    `json:"token_endpoint_auth_method"`
	ApplicationType         string    `json:"application_type,omitempty"`
	Source                  string    `json:"source"`
	CreatedAt               time.Time `json:"created_at"`
	// Secret is shown once, in the answer to the creation.
	Secret string `json:"client_secret,omitempty"`
}

func clientView(c *oauth.Client) oauthClientView {
	return oauthClientView{ID: c.ID, Name: c.Name, RedirectURIs: append([]string{}, c.RedirectURIs...), GrantTypes: c.GrantTypes, TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		ApplicationType: c.ApplicationType, Source: c.Source, CreatedAt: c.CreatedAt}
}

func (a *API) listOAuthClients(ctx *fasthttp.RequestCtx) {
	list, err := a.OAuth.Clients(detach(ctx))
	if err != nil {
		a.internal(ctx, err)
		return
	}
	out := make([]oauthClientView, 0, len(list))
	for _, c := range list {
		out = append(out, clientView(c))
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"items": out})
}

func (a *API) createOAuthClient(ctx *fasthttp.RequestCtx, p auth.Principal) {
	var spec oauth.ClientSpec
	if err := decodeStrict(ctx.PostBody(), &spec); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	c, secret, err := a.OAuth.CreateClient(detach(ctx), p.User, spec)
	if err != nil {
		if errors.Is(err, oauth.ErrBadClient) {
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), "")
			return
		}
		a.internal(ctx, err)
		return
	}
	a.record(ctx, p, "oauth.client.create", c.ID, map[string]any{"client_name": c.Name, "redirect_uris": c.RedirectURIs})
	v := clientView(c)
	v.Secret = secret
	writeJSON(ctx, fasthttp.StatusCreated, v)
}

func (a *API) deleteOAuthClient(ctx *fasthttp.RequestCtx, p auth.Principal, id string) {
	if err := a.OAuth.DeleteClient(detach(ctx), id); err != nil {
		if oauth.IsNoClient(err) {
			writeError(ctx, fasthttp.StatusNotFound, "not_found", "OAuth client \""+id+"\" not found", "")
			return
		}
		a.internal(ctx, err)
		return
	}
	a.record(ctx, p, "oauth.client.delete", id, nil)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}
