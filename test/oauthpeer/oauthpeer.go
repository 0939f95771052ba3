// Package oauthpeer starts an OAuth-protected MCP server for tests of the
// gateway's upstream OAuth client: the official Go SDK's MCP server behind
// its auth middleware (RequireBearerToken, RFC 9728 resource metadata),
// and a tiny authorization server (RFC 8414 metadata, RFC 7591
// registration, authorization code with PKCE S256 and the RFC 8707
// resource, refresh-token rotation, RFC 7009 revocation, RFC 9207 iss)
// that approves every sign-in without a login page, so a test can follow
// the browser's redirects itself. It records what it issued, refreshed
// and revoked, for tests to assert on.
package oauthpeer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// Options configure the peer.
type Options struct {
	// ExpiresIn is the access tokens' advertised lifetime in seconds
	// (default 3600). The resource server itself never expires a token:
	// tests provoke refreshes by a lifetime inside the client's margin.
	ExpiresIn int
	// Scope is required by the resource server and advertised (default
	// "mcp:tools").
	Scope string
	// NoRegistration hides the registration endpoint (pre-registered
	// clients only); PreregisteredID/Secret is then the one known client.
	NoRegistration      bool
	PreregisteredID     string
	PreregisteredSecret string
	// Now, when set, is the clock by which the resource server expires
	// access tokens (ExpiresIn after their issue): a test advances it to
	// make a token stale without sleeping. Nil: tokens never expire.
	Now func() time.Time
}

// Peer is a running authorization server and protected MCP server.
type Peer struct {
	opts Options
	// Issuer is the authorization server's URL; MCPURL the protected MCP
	// endpoint.
	Issuer, MCPURL string

	as, rs *http.Server

	mu       sync.Mutex
	clients  map[string]registered
	codes    map[string]grant
	access   map[string]grant // access token → grant
	refresh  map[string]grant // live refresh tokens
	revoked  map[string]bool
	renewed  map[string]bool // access tokens issued by a refresh grant
	expires  map[string]time.Time
	subjects int
	// Counters for tests.
	Registrations, CodeGrants, RefreshGrants, Revocations int
	// Seen are the bearer tokens the MCP server's tools saw, in order;
	// Sessions the MCP session ids of those calls.
	Seen, Sessions []string
}

type registered struct {
	secret   string
	redirect []string
}

type grant struct {
	client, subject, resource, scope, challenge, redirect string
}

// Start starts the peer on loopback ports; Close stops it.
func Start(opts Options) (*Peer, error) {
	if opts.ExpiresIn == 0 {
		opts.ExpiresIn = 3600
	}
	if opts.Scope == "" {
		opts.Scope = "mcp:tools"
	}
	p := &Peer{opts: opts, clients: map[string]registered{}, codes: map[string]grant{},
		access: map[string]grant{}, refresh: map[string]grant{}, revoked: map[string]bool{}, renewed: map[string]bool{}, expires: map[string]time.Time{}}
	if opts.PreregisteredID != "" {
		p.clients[opts.PreregisteredID] = registered{secret: opts.PreregisteredSecret}
	}
	asLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		asLn.Close()
		return nil, err
	}
	p.Issuer = "http://" + asLn.Addr().String()
	rsBase := "http://" + rsLn.Addr().String()
	p.MCPURL = rsBase + "/mcp"

	asMux := http.NewServeMux()
	asMux.HandleFunc("GET /.well-known/oauth-authorization-server", p.serveMetadata)
	asMux.HandleFunc("POST /register", p.serveRegister)
	asMux.HandleFunc("GET /authorize", p.serveAuthorize)
	asMux.HandleFunc("POST /token", p.serveToken)
	asMux.HandleFunc("POST /revoke", p.serveRevoke)
	p.as = &http.Server{Handler: asMux, ReadHeaderTimeout: 10 * time.Second}

	server := mcp.NewServer(&mcp.Implementation{Name: "oauth-peer", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "whoami", Description: "Says which upstream user the bearer token is."},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, struct{}, error) {
			info := req.Extra.TokenInfo
			tok, _ := info.Extra["token"].(string)
			p.mu.Lock()
			p.Seen = append(p.Seen, tok)
			p.Sessions = append(p.Sessions, req.Session.ID())
			p.mu.Unlock()
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: info.UserID}}}, struct{}{}, nil
		})
	metaURL := rsBase + "/.well-known/oauth-protected-resource/mcp"
	rsMux := http.NewServeMux()
	rsMux.Handle("/.well-known/oauth-protected-resource/mcp", auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource: p.MCPURL, AuthorizationServers: []string{p.Issuer}, ScopesSupported: []string{opts.Scope},
	}))
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	rsMux.Handle("/mcp", auth.RequireBearerToken(p.verify, &auth.RequireBearerTokenOptions{
		ResourceMetadataURL: metaURL, Scopes: []string{opts.Scope},
	})(mcpHandler))
	p.rs = &http.Server{Handler: rsMux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.as.Serve(asLn) }()
	go func() { _ = p.rs.Serve(rsLn) }()
	return p, nil
}

// Close stops both servers.
func (p *Peer) Close() {
	_ = p.as.Close()
	_ = p.rs.Close()
}

// Snapshot returns the counters and the tokens seen so far.
func (p *Peer) Snapshot() (registrations, codeGrants, refreshGrants, revocations int, seen []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Registrations, p.CodeGrants, p.RefreshGrants, p.Revocations, append([]string(nil), p.Seen...)
}

// SessionsSeen returns the MCP session ids of the tool calls so far.
func (p *Peer) SessionsSeen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.Sessions...)
}

// Revoked reports whether the server revoked token.
func (p *Peer) Revoked(token string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.revoked[token]
}

// Refreshed reports whether access token was issued by a refresh grant.
func (p *Peer) Refreshed(token string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.renewed[token]
}

// Issued reports whether token is an access token this server issued.
func (p *Peer) Issued(token string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.access[token]
	return ok
}

func (p *Peer) verify(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.access[token]
	if !ok || p.revoked[token] {
		return nil, auth.ErrInvalidToken
	}
	if exp, ok := p.expires[token]; ok && !p.opts.Now().Before(exp) {
		return nil, fmt.Errorf("%w: expired at %s", auth.ErrInvalidToken, exp.Format(time.RFC3339))
	}
	if g.resource != p.MCPURL {
		return nil, fmt.Errorf("%w: token for resource %q", auth.ErrInvalidToken, g.resource)
	}
	return &auth.TokenInfo{Scopes: strings.Fields(g.scope), Expiration: time.Now().Add(time.Hour),
		UserID: g.subject, Extra: map[string]any{"token": token}}, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func random() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (p *Peer) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	m := map[string]any{
		"issuer":                                         p.Issuer,
		"authorization_endpoint":                         p.Issuer + "/authorize",
		"token_endpoint":                                 p.Issuer + "/token",
		"revocation_endpoint":                            p.Issuer + "/revoke",
		"response_types_supported":                       []string{"code"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"none", "client_secret_post", "client_secret_basic"},
		"scopes_supported":                               []string{p.opts.Scope, "offline_access"},
		"authorization_response_iss_parameter_supported": true,
	}
	if !p.opts.NoRegistration {
		m["registration_endpoint"] = p.Issuer + "/register"
	}
	writeJSON(w, http.StatusOK, m)
}

func (p *Peer) serveRegister(w http.ResponseWriter, r *http.Request) {
	if p.opts.NoRegistration {
		http.NotFound(w, r)
		return
	}
	var meta oauthex.ClientRegistrationMetadata
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&meta); err != nil || len(meta.RedirectURIs) == 0 {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "redirect_uris are required")
		return
	}
	id := "client-" + random()
	p.mu.Lock()
	p.clients[id] = registered{redirect: meta.RedirectURIs}
	p.Registrations++
	p.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"client_id": id, "redirect_uris": meta.RedirectURIs, "token_endpoint_auth_method": "none"})
}

func (p *Peer) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	cl, ok := p.clients[q.Get("client_id")]
	p.mu.Unlock()
	redirect := q.Get("redirect_uri")
	switch {
	case !ok:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case cl.redirect != nil && !contains(cl.redirect, redirect):
		http.Error(w, "redirect_uri not registered", http.StatusBadRequest)
		return
	}
	back, err := url.Parse(redirect)
	if err != nil || redirect == "" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	out := url.Values{"state": {q.Get("state")}, "iss": {p.Issuer}}
	switch {
	case q.Get("response_type") != "code":
		out.Set("error", "unsupported_response_type")
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		out.Set("error", "invalid_request")
		out.Set("error_description", "PKCE S256 is required")
	case q.Get("resource") != p.MCPURL:
		out.Set("error", "invalid_target")
	default:
		code := random()
		p.mu.Lock()
		p.subjects++
		p.codes[code] = grant{client: q.Get("client_id"), subject: fmt.Sprintf("upstream-user-%d", p.subjects),
			resource: q.Get("resource"), scope: q.Get("scope"), challenge: q.Get("code_challenge"), redirect: redirect}
		p.mu.Unlock()
		out.Set("code", code)
	}
	back.RawQuery = out.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *Peer) clientOK(r *http.Request, id string) bool {
	cl, ok := p.clients[id]
	if !ok {
		return false
	}
	if cl.secret == "" {
		return true
	}
	if u, pw, ok := r.BasicAuth(); ok {
		u, _ = url.QueryUnescape(u)
		pw, _ = url.QueryUnescape(pw)
		return u == id && pw == cl.secret
	}
	return r.PostForm.Get("client_secret") == cl.secret
}

func (p *Peer) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	id := r.PostForm.Get("client_id")
	if u, _, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(u)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.clientOK(r, id) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	var g grant
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c, ok := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case !ok || c.client != id || c.redirect != r.PostForm.Get("redirect_uri"):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown code")
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verifier does not match")
			return
		case r.PostForm.Get("resource") != c.resource:
			oauthError(w, http.StatusBadRequest, "invalid_target", "resource differs from the authorization request")
			return
		}
		g = c
		p.CodeGrants++
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		c, ok := p.refresh[rt]
		if !ok || c.client != id {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or used refresh token")
			return
		}
		delete(p.refresh, rt) // rotation: a refresh token is used once
		g = c
		p.RefreshGrants++
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	at, rt := "at-"+random(), "rt-"+random()
	p.access[at] = g
	p.renewed[at] = r.PostForm.Get("grant_type") == "refresh_token"
	if p.opts.Now != nil {
		p.expires[at] = p.opts.Now().Add(time.Duration(p.opts.ExpiresIn) * time.Second)
	}
	p.refresh[rt] = g
	writeJSON(w, http.StatusOK, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": p.opts.ExpiresIn,
		"refresh_token": rt, "scope": g.scope})
}

func (p *Peer) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	tok := r.PostForm.Get("token")
	p.mu.Lock()
	defer p.mu.Unlock()
	if g, ok := p.refresh[tok]; ok {
		delete(p.refresh, tok)
		// Revoking a refresh token revokes the grant's access tokens.
		for at, ag := range p.access {
			if ag == g {
				p.revoked[at] = true
			}
		}
	}
	p.revoked[tok] = true
	p.Revocations++
	w.WriteHeader(http.StatusOK)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
