package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/auth/redirect"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// browserCookie binds an authorization request to the browser that
// started it, so a form posted from elsewhere (CSRF) finds no request.
const browserCookie = "gatehouse_oauth"

// pkceChallenge is a base64url SHA-256: 43 characters.
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// pkceVerifier is RFC 7636 §4.1: 43-128 unreserved characters.
var pkceVerifier = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// authzRequest is a validated authorization request waiting for sign-in
// and consent (stored with a TTL; the browser holds its id).
type authzRequest struct {
	ID          string    `json:"id"`
	ClientID    string    `json:"client_id"`
	ClientName  string    `json:"client_name"`
	RedirectURI string    `json:"redirect_uri"`
	State       string    `json:"state,omitempty"`
	Challenge   string    `json:"code_challenge"`
	Resource    string    `json:"resource"`
	Scope       string    `json:"scope"`
	Browser     string    `json:"browser"` // digest of the browser cookie
	CSRF        string    `json:"csrf"`
	User        string    `json:"user,omitempty"` // set once signed in
	Expires     time.Time `json:"expires"`
}

// parseScope checks a requested scope; empty means the default, mcp.
func parseScope(scope string) (string, *Error) {
	fields := strings.Fields(scope)
	if len(fields) == 0 {
		return ScopeMCP, nil
	}
	for _, f := range fields {
		if !slices.Contains(supportedScopes, f) {
			return "", oerr(ErrInvalidScope, fmt.Sprintf("scope %q is not supported (supported: %s)", f, strings.Join(supportedScopes, " ")))
		}
	}
	slices.Sort(fields)
	return strings.Join(slices.Compact(fields), " "), nil
}

// decideRedirect asks the redirect rules; without rules wired, a URI the
// client registered is allowed (the rules are the organisation's layer on
// top of registration).
func (s *Server) decideRedirect(ctx context.Context, req redirect.Request) (redirect.Decision, error) {
	if s.d.Redirects == nil {
		return redirect.Decision{Outcome: redirect.Allowed, Reason: "no redirect-URI rules configured"}, nil
	}
	d, err := s.d.Redirects.Decide(ctx, req)
	if err != nil {
		return redirect.Decision{}, fmt.Errorf("decide redirect URI: %w", err)
	}
	return d, nil
}

// authorize is the authorization endpoint (GET or POST form).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.pages.message(w, http.StatusBadRequest, "Invalid request", "The authorization request could not be read: "+err.Error(), "")
		return
	}
	q := r.Form
	for _, single := range []string{"client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method", "state", "scope"} {
		if len(q[single]) > 1 {
			s.pages.message(w, http.StatusBadRequest, "Invalid request", "The parameter "+single+" appears more than once.", "")
			return
		}
	}
	clientID := q.Get("client_id")
	c, e := s.client(ctx, clientID)
	if e != nil {
		// No trusted redirect URI: show the error, never redirect.
		s.audit("oauth.authorize", "", clientID, e, nil)
		s.pages.message(w, e.Status, "Unknown application", e.Description, "Ask the application's developer, or your administrator, to register it.")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" && len(c.RedirectURIs) == 1 {
		redirectURI = c.RedirectURIs[0]
	}
	if !c.redirectRegistered(redirectURI) {
		e := oerr(ErrInvalidRequest, fmt.Sprintf("redirect_uri %q is not registered for this client", redirectURI))
		s.audit("oauth.authorize", "", c.ID, e, nil)
		s.pages.message(w, http.StatusBadRequest, "Invalid redirect", e.Description, "")
		return
	}
	source := "authorize"
	if c.Source == SourceCIMD {
		source = SourceCIMD
	}
	d, err := s.decideRedirect(ctx, redirect.Request{URI: redirectURI, ClientID: c.ID, ClientName: c.Name, Source: source})
	if err != nil {
		s.d.Log.Error().Err(err).Msg("oauth: redirect rules failed")
		s.pages.message(w, http.StatusInternalServerError, "Something went wrong", "The gateway could not check the redirect URI. Try again later.", "")
		return
	}
	switch d.Outcome {
	case redirect.Blocked:
		s.audit("oauth.authorize", "", c.ID, oerr(ErrAccessDenied, "redirect URI blocked: "+d.Reason), map[string]any{"redirect_uri": redirectURI, "rule": d.Rule})
		s.pages.message(w, http.StatusForbidden, "This redirect URI is blocked for your organization",
			fmt.Sprintf("%s wants to send you back to %s, which your organization's rules block (%s).", displayName(c), redirectURI, d.Reason),
			"Nothing was shared. If you need this application, ask your Gatehouse administrator to review the redirect-URI rules; otherwise close this page.")
		return
	case redirect.Pending:
		s.audit("oauth.authorize", "", c.ID, oerr(ErrAccessDenied, "redirect URI waiting for admin approval"), map[string]any{"redirect_uri": redirectURI, "pending": d.PendingID})
		s.pages.pending(w, displayName(c), redirectURI, d.PendingID, r.URL.String())
		return
	case redirect.Allowed:
	default:
		s.pages.message(w, http.StatusInternalServerError, "Something went wrong", "Unknown redirect decision.", "")
		return
	}

	// The redirect URI is trusted from here: errors go back to the client.
	back := func(e *Error) {
		s.audit("oauth.authorize", "", c.ID, e, map[string]any{"redirect_uri": redirectURI})
		s.redirectError(w, r, redirectURI, q.Get("state"), e)
	}
	switch {
	case q.Get("response_type") != "code":
		back(oerr(ErrUnsupportedResponseType, "response_type must be code"))
		return
	case !slices.Contains(c.GrantTypes, "authorization_code"):
		back(oerr(ErrUnauthorizedClient, "this client is not registered for the authorization_code grant"))
		return
	case q.Get("code_challenge") == "":
		back(oerr(ErrInvalidRequest, "PKCE is required: send code_challenge and code_challenge_method=S256"))
		return
	case q.Get("code_challenge_method") != "S256":
		back(oerr(ErrInvalidRequest, fmt.Sprintf("code_challenge_method %q is refused: only S256 is supported (plain is not allowed)", q.Get("code_challenge_method"))))
		return
	case !pkceChallenge.MatchString(q.Get("code_challenge")):
		back(oerr(ErrInvalidRequest, "code_challenge must be the base64url SHA-256 of the verifier (43 characters)"))
		return
	}
	resources := q["resource"]
	switch {
	case len(resources) == 0:
		back(oerr(ErrInvalidTarget, "the resource parameter (RFC 8707) is required: the MCP endpoint URL, e.g. "+s.cfg.Issuer+"/mcp"))
		return
	case len(resources) > 1:
		back(oerr(ErrInvalidTarget, "name exactly one resource: a token is bound to one MCP endpoint"))
		return
	case !s.validResource(resources[0]):
		back(oerr(ErrInvalidTarget, fmt.Sprintf("resource %q is not an MCP endpoint of this gateway (%s/mcp or %s/mcp/{connector})", resources[0], s.cfg.Issuer, s.cfg.Issuer)))
		return
	}
	scope, e := parseScope(q.Get("scope"))
	if e != nil {
		back(e)
		return
	}
	browser := s.browserID(w, r)
	req := authzRequest{ID: randomToken(24), ClientID: c.ID, ClientName: c.Name, RedirectURI: redirectURI, State: q.Get("state"),
		Challenge: q.Get("code_challenge"), Resource: resources[0], Scope: scope, Browser: digest(browser), CSRF: randomToken(24),
		Expires: s.now().Add(s.cfg.RequestTTL)}
	if err := s.saveRequest(ctx, &req); err != nil {
		back(serverError(err))
		return
	}
	s.pages.login(w, s.loginView(req.ID, req.CSRF, displayName(c), ""), "")
}

func displayName(c *Client) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// browserID returns the browser's binding cookie, setting one if absent.
func (s *Server) browserID(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(browserCookie); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 64 {
		return ck.Value
	}
	v := randomToken(32)
	http.SetCookie(w, &http.Cookie{Name: browserCookie, Value: v, Path: "/oauth/", HttpOnly: true,
		Secure: strings.HasPrefix(s.cfg.Issuer, "https://"), SameSite: http.SameSiteLaxMode})
	return v
}

func (s *Server) saveRequest(ctx context.Context, req *authzRequest) error {
	raw, err := json.Marshal(req)
	if err != nil {
		return err
	}
	ttl := req.Expires.Sub(s.now())
	if ttl <= 0 {
		return errors.New("authorization request expired")
	}
	return s.d.Store.Put(ctx, kindRequest, req.ID, raw, ttl, false)
}

// pendingRequest loads the request a sign-in or consent form names and
// checks that the same browser posts it with the request's CSRF token.
func (s *Server) pendingRequest(ctx context.Context, r *http.Request) (*authzRequest, error) {
	req, err := s.loadRequest(ctx, r.PostFormValue("request"))
	if err != nil {
		return nil, err
	}
	ck, err := r.Cookie(browserCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(digest(ck.Value)), []byte(req.Browser)) != 1 ||
		subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(req.CSRF)) != 1 {
		return nil, errors.New("this form was not sent by the browser that started the sign-in (CSRF check failed); start again from the application")
	}
	return req, nil
}

// loadRequest loads a pending authorization request that has not expired.
func (s *Server) loadRequest(ctx context.Context, id string) (*authzRequest, error) {
	if id == "" {
		return nil, errors.New("the form names no authorization request")
	}
	raw, err := s.d.Store.Get(ctx, kindRequest, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("this sign-in expired or was already used; start again from the application")
	}
	if err != nil {
		return nil, err
	}
	var req authzRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	if !s.now().Before(req.Expires) {
		return nil, errors.New("this sign-in expired; start again from the application")
	}
	return &req, nil
}

// login checks the user's password, then shows the consent page (or
// finishes at once when the user consented to this client before).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := s.pendingRequest(ctx, r)
	if err != nil {
		s.pages.message(w, http.StatusBadRequest, "Sign-in failed", err.Error(), "")
		return
	}
	user := strings.TrimSpace(r.PostFormValue("username"))
	ip := clientIP(r)
	userBlocked, until := s.userFails.blocked(user)
	ipBlocked, ipUntil := s.ipFails.blocked(ip)
	if userBlocked || ipBlocked {
		until = later(until, ipUntil)
		s.audit("oauth.login", user, req.ClientID, oerr(ErrAccessDenied, "too many failed sign-ins"),
			map[string]any{"method": "password", "client_ip": ip, "until": until})
		s.pages.login(w, s.loginView(req.ID, req.CSRF, req.ClientName, user),
			"Too many failed sign-ins. Try again after "+until.UTC().Format("15:04 UTC")+", or ask your administrator.")
		return
	}
	if err := s.CheckPassword(ctx, user, r.PostFormValue("password")); err != nil {
		s.userFails.add(user)
		s.ipFails.add(ip)
		s.audit("oauth.login", user, req.ClientID, oerr(ErrAccessDenied, "sign-in failed"), map[string]any{"method": "password", "client_ip": ip})
		s.pages.login(w, s.loginView(req.ID, req.CSRF, req.ClientName, user), "Wrong user name or password, or the account is disabled.")
		return
	}
	s.userFails.clear(user)
	s.signedIn(w, r, req, user, "password")
}

// loginView is the sign-in page for a request.
func (s *Server) loginView(request, csrf, client, user string) loginView {
	v := loginView{Request: request, CSRF: csrf, Client: client, User: user}
	if s.oidc != nil {
		v.SSO = s.oidc.cfg.Name
	}
	return v
}

// signedIn continues a request whose user has signed in (by password or
// at the identity provider): to the consent page, or straight to the
// client when the user consented to it before.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, req *authzRequest, user, method string) {
	ctx := r.Context()
	s.audit("oauth.login", user, req.ClientID, nil, map[string]any{"method": method})
	req.User = user
	req.CSRF = randomToken(24) // a new token for the next form
	if err := s.saveRequest(ctx, req); err != nil {
		s.pages.message(w, http.StatusInternalServerError, "Something went wrong", "Try again.", "")
		return
	}
	if s.hasConsent(ctx, req) {
		s.finish(w, r, req, true)
		return
	}
	c, e := s.client(ctx, req.ClientID)
	if e != nil {
		s.pages.message(w, e.Status, "Unknown application", e.Description, "")
		return
	}
	u, _ := url.Parse(req.RedirectURI)
	s.pages.consent(w, consentView{Request: req.ID, CSRF: req.CSRF, User: user, Client: displayName(c), ClientID: c.ID,
		RedirectHost: u.Host, RedirectURI: req.RedirectURI, LocalhostOnly: c.localhostOnly(), Resource: req.Resource,
		Scope: req.Scope, Source: c.Source})
}

func consentID(req *authzRequest) string {
	return digest(req.User + "\n" + req.ClientID + "\n" + req.RedirectURI + "\n" + req.Resource)
}

// hasConsent reports whether the user already let this client reach this
// resource through this redirect URI with at least this scope.
func (s *Server) hasConsent(ctx context.Context, req *authzRequest) bool {
	raw, err := s.d.Store.Get(ctx, kindConsent, consentID(req))
	if err != nil {
		return false
	}
	have := strings.Fields(string(raw))
	for _, sc := range strings.Fields(req.Scope) {
		if !slices.Contains(have, sc) {
			return false
		}
	}
	return true
}

// consent records the user's answer and finishes the flow.
func (s *Server) consent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := s.pendingRequest(ctx, r)
	if err == nil && req.User == "" {
		err = errors.New("sign in first")
	}
	if err != nil {
		s.pages.message(w, http.StatusBadRequest, "Consent failed", err.Error(), "")
		return
	}
	if r.PostFormValue("decision") != "allow" {
		_ = s.d.Store.Delete(ctx, kindRequest, req.ID)
		e := oerr(ErrAccessDenied, "the user denied the request")
		s.audit("oauth.consent", req.User, req.ClientID, e, map[string]any{"resource": req.Resource})
		s.redirectError(w, r, req.RedirectURI, req.State, e)
		return
	}
	if err := s.d.Store.Put(ctx, kindConsent, consentID(req), []byte(req.Scope), 0, false); err != nil {
		s.redirectError(w, r, req.RedirectURI, req.State, serverError(err))
		return
	}
	s.audit("oauth.consent", req.User, req.ClientID, nil, map[string]any{"resource": req.Resource, "scope": req.Scope, "redirect_uri": req.RedirectURI})
	s.finish(w, r, req, false)
}

// codeRecord is an authorization code's grant (stored under the code's
// digest, with the code's TTL).
type codeRecord struct {
	ClientID    string `json:"client_id"`
	RedirectURI string `json:"redirect_uri"`
	User        string `json:"user"`
	Resource    string `json:"resource"`
	Scope       string `json:"scope"`
	Challenge   string `json:"code_challenge"`
	// Expires is checked on the server's clock too (the store's TTL
	// runs on the wall clock).
	Expires time.Time `json:"expires"`
}

// finish issues the code and redirects to the client with code, state
// and iss (RFC 9207).
func (s *Server) finish(w http.ResponseWriter, r *http.Request, req *authzRequest, remembered bool) {
	ctx := r.Context()
	if _, err := s.d.Store.Take(ctx, kindRequest, req.ID); err != nil {
		// Used by a concurrent submit: one code per request.
		s.pages.message(w, http.StatusBadRequest, "Sign-in failed", "This sign-in was already completed; start again from the application.", "")
		return
	}
	code := randomToken(32)
	rec, _ := json.Marshal(codeRecord{ClientID: req.ClientID, RedirectURI: req.RedirectURI, User: req.User,
		Resource: req.Resource, Scope: req.Scope, Challenge: req.Challenge, Expires: s.now().Add(s.cfg.CodeTTL)})
	if err := s.d.Store.Put(ctx, kindCode, digest(code), rec, s.cfg.CodeTTL, false); err != nil {
		s.redirectError(w, r, req.RedirectURI, req.State, serverError(err))
		return
	}
	s.audit("oauth.authorize", req.User, req.ClientID, nil, map[string]any{"resource": req.Resource, "scope": req.Scope,
		"redirect_uri": req.RedirectURI, "consent_remembered": remembered})
	s.redirectTo(w, r, req.RedirectURI, url.Values{"code": {code}, "state": optional(req.State), "iss": {s.cfg.Issuer}})
}

func optional(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}

// redirectError sends an error back to the client's redirect URI.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, uri, state string, e *Error) {
	if e.cause != nil {
		s.d.Log.Error().Err(e.cause).Msg("oauth: authorization failed")
	}
	s.redirectTo(w, r, uri, url.Values{"error": {e.Code}, "error_description": {e.Description}, "state": optional(state), "iss": {s.cfg.Issuer}})
}

// redirectTo adds params to uri's query (keeping its own) and redirects.
func (s *Server) redirectTo(w http.ResponseWriter, r *http.Request, uri string, params url.Values) {
	u, err := url.Parse(uri)
	if err != nil {
		s.pages.message(w, http.StatusBadRequest, "Invalid redirect", "The redirect URI does not parse.", "")
		return
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}
