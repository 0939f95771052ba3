package admin

import (
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// defaultTokenExpiry applies when a token request names none: tokens that
// never expire are opt-in ("never").
const defaultTokenExpiry = "90d"

func (a *API) routeTokens(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	switch {
	case len(rest) == 0 && method == fasthttp.MethodGet:
		a.listTokens(ctx, p)
	case len(rest) == 0 && method == fasthttp.MethodPost:
		a.createToken(ctx, p)
	case len(rest) == 1 && method == fasthttp.MethodDelete:
		a.revokeToken(ctx, p, rest[0])
	default:
		methodNotAllowed(ctx, method)
	}
}

// tokenObject is the resource a token action on user's tokens needs.
func tokenObject(p auth.Principal, user string) string {
	if user == p.User {
		return policy.ResTokensSelf
	}
	return policy.ResTokens
}

func (a *API) listTokens(ctx *fasthttp.RequestCtx, p auth.Principal) {
	user := string(ctx.QueryArgs().Peek("user"))
	if user == "" {
		user = p.User
	}
	filter := user
	obj := tokenObject(p, user)
	if user == "*" {
		filter, obj = "", policy.ResTokens
	}
	if !a.allow(ctx, p, obj, policy.ActRead) {
		return
	}
	pg, ok := readPage(ctx)
	if !ok {
		return
	}
	list, err := a.Tokens.List(detach(ctx), filter)
	if err != nil {
		a.internal(ctx, err)
		return
	}
	items, next := paginate(list, pg, func(t *auth.Token) string { return t.CreatedAt.Format("20060102150405.000000000") + t.ID })
	out := make([]tokenView, len(items))
	for i, t := range items {
		out[i] = a.tokenView(t)
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"tokens": out, "total": len(list), "next_cursor": next})
}

// tokenView hides the digest and says whether the token still works.
type tokenView struct {
	*auth.Token
	Digest string `json:"digest,omitempty"`
	Active bool   `json:"active"`
}

func (a *API) tokenView(t *auth.Token) tokenView {
	return tokenView{Token: t, Active: t.Active(a.Now())}
}

func (a *API) createToken(ctx *fasthttp.RequestCtx, p auth.Principal) {
	var body struct {
		Name    string `json:"name"`
		User    string `json:"user"`
		Expires string `json:"expires"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	if body.User == "" {
		body.User = p.User
	}
	if !a.allow(ctx, p, tokenObject(p, body.User), policy.ActWrite) || !a.mayActOn(ctx, p, body.User) {
		return
	}
	body.Name = strings.TrimSpace(body.Name)
	if body.Name == "" || len(body.Name) > 100 {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "name is required (1-100 characters) so you can tell tokens apart", "name")
		return
	}
	if body.Expires == "" {
		body.Expires = defaultTokenExpiry
	}
	t := &auth.Token{User: body.User, Name: body.Name}
	if body.Expires != "never" {
		exp, err := auth.ParseExpiry(body.Expires, a.Now())
		if err != nil {
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), "expires")
			return
		}
		t.ExpiresAt = exp
	}
	if _, err := a.Users.Get(detach(ctx), body.User); err != nil {
		a.notFoundOr(ctx, err, "user \""+body.User+"\" not found")
		return
	}
	token, digest := auth.NewToken()
	t.Digest = auth.DigestHex(digest)
	t.Prefix = token[:len(auth.TokenPrefix)+4]
	if err := a.Tokens.Create(detach(ctx), t); err != nil {
		a.notFoundOr(ctx, err, "user \""+body.User+"\" not found")
		return
	}
	a.record(ctx, p, "token.create", t.ID, map[string]any{"user": t.User, "name": t.Name, "expires_at": t.ExpiresAt})
	writeJSON(ctx, fasthttp.StatusCreated, map[string]any{
		"token":  token,
		"notice": "store this token now: it is shown once and cannot be recovered",
		"record": a.tokenView(t),
	})
}

func (a *API) revokeToken(ctx *fasthttp.RequestCtx, p auth.Principal, id string) {
	t, err := a.Tokens.Get(detach(ctx), id)
	if err != nil {
		a.notFoundOr(ctx, err, "token \""+id+"\" not found")
		return
	}
	if !a.allow(ctx, p, tokenObject(p, t.User), policy.ActWrite) || !a.mayActOn(ctx, p, t.User) {
		return
	}
	already := t.RevokedAt != nil
	t, err = a.Tokens.Revoke(detach(ctx), id)
	if err != nil {
		a.notFoundOr(ctx, err, "token \""+id+"\" not found")
		return
	}
	if !already {
		a.record(ctx, p, "token.revoke", id, map[string]any{"user": t.User})
	}
	writeJSON(ctx, fasthttp.StatusOK, a.tokenView(t))
}
