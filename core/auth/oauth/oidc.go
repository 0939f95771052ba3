package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// Sign-in through an upstream OpenID Connect identity provider: the
// sign-in page offers "Sign in with <name>" beside the password form; the
// gateway is an ordinary OIDC relying party (authorization code + PKCE
// S256, state bound to the browser, nonce), go-oidc verifies the ID token
// (signature by the provider's published keys, iss, aud, expiry) and
// golang.org/x/oauth2 does the code exchange. The ID token's user claim
// names the Gatehouse user, who must exist and be enabled; then consent
// and the code to the MCP client go on exactly as after a password.

// OIDCConfig is the identity provider users may sign in with.
type OIDCConfig struct {
	// Name is shown on the sign-in button ("Sign in with Name").
	Name string
	// Issuer is the provider's issuer URL (its discovery document is at
	// Issuer/.well-known/openid-configuration).
	Issuer string
	// ClientID and ClientSecret are the gateway's registration at the
	// provider; its redirect URI is <issuer of Gatehouse>/oauth/oidc/callback.
	ClientID, ClientSecret string
	// UserClaim names the ID token claim that is the Gatehouse user id:
	// email (default; an email the provider marks unverified is refused),
	// sub or preferred_username.
	UserClaim string
	// Scopes asked for; default openid, email, profile.
	Scopes []string
	// HTTPClient talks to the provider (its trust roots); nil: the
	// default client.
	HTTPClient *http.Client
}

// oidcStateTTL bounds the time from "Sign in with …" to the callback.
const oidcStateTTL = 10 * time.Minute

// oidcCallbackPath is the gateway's redirect URI at the provider.
const oidcCallbackPath = "/oauth/oidc/callback"

// oidcState is one sign-in in flight at the provider (stored under the
// state's digest; taken once by the callback).
type oidcState struct {
	Request  string    `json:"request"`
	Browser  string    `json:"browser"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	Expires  time.Time `json:"expires"`
}

// oidcLogin discovers the provider on first use (and again after a
// failed discovery), so a provider that is down when the gateway starts
// only disables its button until it is back.
type oidcLogin struct {
	cfg      OIDCConfig
	redirect string

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func (c *OIDCConfig) check() error {
	switch {
	case c.Issuer == "" || c.ClientID == "":
		return errors.New("oauth.oidc needs an issuer and a client_id")
	case !strings.HasPrefix(c.Issuer, "https://"):
		return fmt.Errorf("oauth.oidc.issuer must be an https URL, got %q", c.Issuer)
	case c.UserClaim != "" && c.UserClaim != "email" && c.UserClaim != "sub" && c.UserClaim != "preferred_username":
		return fmt.Errorf("oauth.oidc.user_claim must be email, sub or preferred_username, got %q", c.UserClaim)
	}
	return nil
}

func (o *oidcLogin) ctx(ctx context.Context) context.Context {
	if o.cfg.HTTPClient != nil {
		return oidc.ClientContext(ctx, o.cfg.HTTPClient)
	}
	return ctx
}

// discover returns the provider's OAuth configuration and ID token
// verifier, discovering them once.
func (o *oidcLogin) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.oauth != nil {
		return o.oauth, o.verifier, nil
	}
	dctx, cancel := context.WithTimeout(o.ctx(ctx), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(dctx, o.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("discover %s: %w", o.cfg.Issuer, err)
	}
	scopes := o.cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	o.oauth = &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: o.redirect, Scopes: scopes}
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID})
	return o.oauth, o.verifier, nil
}

// oidcStart sends the browser to the provider for the pending request.
func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := s.pendingRequest(ctx, r)
	if err != nil {
		s.pages.message(w, http.StatusBadRequest, "Sign-in failed", err.Error(), "")
		return
	}
	conf, _, err := s.oidc.discover(ctx)
	if err != nil {
		s.d.Log.Error().Err(err).Msg("oauth: the OIDC identity provider is unreachable")
		s.pages.message(w, http.StatusBadGateway, "Sign-in unavailable",
			s.oidc.cfg.Name+" cannot be reached right now.", "Try again later, or sign in with your Gatehouse password.")
		return
	}
	state, st := randomToken(24), oidcState{Request: req.ID, Browser: req.Browser, Nonce: randomToken(16),
		Verifier: oauth2.GenerateVerifier(), Expires: s.now().Add(oidcStateTTL)}
	raw, _ := json.Marshal(st)
	if err := s.d.Store.Put(ctx, kindOIDCState, digest(state), raw, oidcStateTTL, false); err != nil {
		s.pages.message(w, http.StatusInternalServerError, "Something went wrong", "Try again.", "")
		return
	}
	http.Redirect(w, r, conf.AuthCodeURL(state, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), http.StatusFound)
}

// oidcCallback finishes a sign-in at the provider: the state is taken
// once and must come back to the browser that started it, the code is
// exchanged, the ID token verified, its nonce checked, and the user it
// names signed in.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	fail := func(status int, user, clientID, why string) {
		s.audit("oauth.login", user, clientID, oerr(ErrAccessDenied, "sign-in with "+s.oidc.cfg.Name+" failed: "+why), map[string]any{"method": "oidc"})
		s.pages.message(w, status, "Sign-in failed", why, "Start again from the application.")
	}
	raw, err := s.d.Store.Take(ctx, kindOIDCState, digest(q.Get("state")))
	if errors.Is(err, store.ErrNotFound) || q.Get("state") == "" {
		fail(http.StatusBadRequest, "", "", "this sign-in expired or was already used")
		return
	}
	if err != nil {
		fail(http.StatusInternalServerError, "", "", "the gateway could not read the sign-in")
		return
	}
	var st oidcState
	if err := json.Unmarshal(raw, &st); err != nil {
		fail(http.StatusInternalServerError, "", "", "the gateway could not read the sign-in")
		return
	}
	ck, err := r.Cookie(browserCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(digest(ck.Value)), []byte(st.Browser)) != 1 {
		fail(http.StatusBadRequest, "", "", "this answer from "+s.oidc.cfg.Name+" did not come back to the browser that started the sign-in")
		return
	}
	req, err := s.loadRequest(ctx, st.Request)
	if err != nil {
		fail(http.StatusBadRequest, "", "", err.Error())
		return
	}
	if e := q.Get("error"); e != "" {
		fail(http.StatusForbidden, "", req.ClientID, s.oidc.cfg.Name+" refused: "+e+" "+q.Get("error_description"))
		return
	}
	user, why := s.oidcUser(ctx, q.Get("code"), st)
	if why != "" {
		fail(http.StatusForbidden, user, req.ClientID, why)
		return
	}
	s.signedIn(w, r, req, user, "oidc")
}

// oidcUser exchanges the code and returns the Gatehouse user the
// verified ID token names, or why not.
func (s *Server) oidcUser(ctx context.Context, code string, st oidcState) (user, why string) {
	conf, verifier, err := s.oidc.discover(ctx)
	if err != nil {
		return "", s.oidc.cfg.Name + " cannot be reached right now"
	}
	xctx, cancel := context.WithTimeout(s.oidc.ctx(ctx), 10*time.Second)
	defer cancel()
	tok, err := conf.Exchange(xctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		s.d.Log.Warn().Err(err).Msg("oauth: OIDC code exchange failed")
		return "", "the code from " + s.oidc.cfg.Name + " could not be exchanged"
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return "", s.oidc.cfg.Name + " returned no ID token"
	}
	id, err := verifier.Verify(xctx, rawID)
	if err != nil {
		return "", "the ID token from " + s.oidc.cfg.Name + " does not verify: " + err.Error()
	}
	if subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(st.Nonce)) != 1 {
		return "", "the ID token's nonce does not match this sign-in"
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
		Username      string `json:"preferred_username"`
	}
	if err := id.Claims(&claims); err != nil {
		return "", "the ID token's claims do not decode"
	}
	switch s.oidc.cfg.UserClaim {
	case "sub":
		user = id.Subject
	case "preferred_username":
		user = claims.Username
	default:
		if claims.EmailVerified != nil && !*claims.EmailVerified {
			return claims.Email, s.oidc.cfg.Name + " has not verified the email address " + claims.Email
		}
		user = claims.Email
	}
	if user == "" {
		return "", "the ID token carries no " + s.oidc.cfg.UserClaim
	}
	if u, err := s.d.Users.User(ctx, user); err != nil || u.Disabled {
		return user, fmt.Sprintf("%q has no enabled Gatehouse account; ask your administrator to create it", user)
	}
	return user, ""
}
