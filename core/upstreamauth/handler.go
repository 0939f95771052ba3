package upstreamauth

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/valyala/fasthttp"
)

// stateCookie binds a started sign-in to the browser that started it, so
// a callback URL replayed in another browser is refused.
const stateCookie = "gatehouse_connect"

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}} — Gatehouse</title></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p>
{{if .Ticket}}<form method="post" action="{{.Action}}"><input type="hidden" name="ticket" value="{{.Ticket}}">
<button type="submit">Connect</button></form>{{end}}
</body></html>`))

type pageData struct {
	Title, Message, Action, Ticket string
}

// Handler serves the gateway's connect routes: ConnectPrefix{slug} (GET:
// a page naming the connector and the gateway user, with a button; POST:
// to the upstream's sign-in), CallbackPath and ClientMetadataPath.
// base is the context the token exchange runs under (the server's).
func (s *Service) Handler(base context.Context) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		path := string(ctx.Path())
		switch {
		case path == ClientMetadataPath && ctx.IsGet():
			s.serveClientMetadata(ctx)
		case path == CallbackPath && ctx.IsGet():
			s.serveCallback(base, ctx)
		case strings.HasPrefix(path, ConnectPrefix) && (ctx.IsGet() || ctx.IsPost()):
			s.serveConnect(base, ctx, strings.TrimPrefix(path, ConnectPrefix))
		default:
			s.render(ctx, fasthttp.StatusNotFound, pageData{Title: "Not found", Message: "No such page. Start a connection with `gatehouse connect SLUG`."})
		}
	}
}

func (s *Service) render(ctx *fasthttp.RequestCtx, status int, d pageData) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.Header.Set("Content-Security-Policy", "default-src 'none'; form-action 'self' https: http:")
	ctx.Response.Header.Set("X-Frame-Options", "DENY")
	ctx.Response.Header.Set("Referrer-Policy", "no-referrer")
	_ = page.Execute(ctx, d)
}

func (s *Service) serveClientMetadata(ctx *fasthttp.RequestCtx) {
	doc := struct {
		ClientID string `json:"client_id"`
		*oauthex.ClientRegistrationMetadata
	}{s.ClientMetadataURL(), s.clientMetadata()}
	b, _ := json.Marshal(doc)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "public, max-age=3600")
	ctx.SetBody(b)
}

func (s *Service) serveConnect(base context.Context, ctx *fasthttp.RequestCtx, slug string) {
	if ctx.IsGet() {
		tk := string(ctx.QueryArgs().Peek("ticket"))
		user, tslug, err := s.Peek(tk)
		if err != nil || tslug != slug {
			s.render(ctx, fasthttp.StatusBadRequest, pageData{Title: "Link not valid", Message: ErrLinkInvalid.Error() + ". Run `gatehouse connect " + slug + "` for a new one."})
			return
		}
		s.render(ctx, fasthttp.StatusOK, pageData{
			Title:   "Connect " + slug,
			Message: "Gatehouse user " + user + " is about to sign in to the upstream of connector " + slug + ". The upstream's token will be used for " + user + "'s calls. Continue only if you started this.",
			Action:  ConnectPrefix + url.PathEscape(slug), Ticket: tk,
		})
		return
	}
	tk := string(ctx.PostArgs().Peek("ticket"))
	if _, tslug, err := s.Peek(tk); err != nil || tslug != slug {
		s.render(ctx, fasthttp.StatusBadRequest, pageData{Title: "Link not valid", Message: ErrLinkInvalid.Error() + ". Run `gatehouse connect " + slug + "` for a new one."})
		return
	}
	authURL, state, err := s.Start(base, tk)
	if err != nil {
		s.log.Warn().Err(err).Str("connector", slug).Msg("connect flow could not start")
		s.render(ctx, fasthttp.StatusBadGateway, pageData{Title: "Cannot connect " + slug, Message: err.Error() + ". Ask the connector's owner to check its auth settings."})
		return
	}
	s.setStateCookie(ctx, state, int(s.opts.LinkTTL.Seconds()))
	ctx.Redirect(authURL, fasthttp.StatusFound)
}

// setStateCookie sets (maxAge > 0) or clears (maxAge < 0) the cookie
// binding a sign-in to its browser; Lax, so the upstream's redirect back
// (a top-level GET) carries it.
func (s *Service) setStateCookie(ctx *fasthttp.RequestCtx, state string, maxAge int) {
	var ck fasthttp.Cookie
	ck.SetKey(stateCookie)
	ck.SetValue(state)
	ck.SetPath(CallbackPath)
	ck.SetHTTPOnly(true)
	ck.SetSecure(strings.HasPrefix(s.opts.PublicURL, "https://"))
	ck.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	ck.SetMaxAge(maxAge)
	ctx.Response.Header.SetCookie(&ck)
}

func (s *Service) serveCallback(base context.Context, ctx *fasthttp.RequestCtx) {
	q, err := url.ParseQuery(string(ctx.QueryArgs().QueryString()))
	if err != nil {
		s.render(ctx, fasthttp.StatusBadRequest, pageData{Title: "Bad callback", Message: "The callback's query does not parse: " + err.Error()})
		return
	}
	res, err := s.Callback(base, q, string(ctx.Request.Header.Cookie(stateCookie)))
	// The cookie has done its job either way.
	s.setStateCookie(ctx, "", -1)
	switch {
	case errors.Is(err, ErrFlowInvalid):
		s.render(ctx, fasthttp.StatusBadRequest, pageData{Title: "Sign-in not valid", Message: err.Error() + ". Start again with `gatehouse connect SLUG`."})
	case err != nil:
		s.log.Warn().Err(err).Str("connector", res.Slug).Str("user", res.User).Msg("connect flow failed")
		s.render(ctx, fasthttp.StatusBadGateway, pageData{Title: "Could not connect " + res.Slug, Message: err.Error() + ". Start again with `gatehouse connect " + res.Slug + "`."})
	default:
		s.log.Info().Str("connector", res.Slug).Str("user", res.User).Msg("user connected to the upstream")
		s.render(ctx, fasthttp.StatusOK, pageData{Title: "Connected " + res.Slug, Message: "Gatehouse user " + res.User + " is connected to " + res.Slug + ". You can close this window."})
	}
}
