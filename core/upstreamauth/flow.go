package upstreamauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// Errors of the connect flow; the pages name what to do next.
var (
	// ErrLinkInvalid: the connect link is unknown, used or expired.
	ErrLinkInvalid = errors.New("this connect link is unknown, was used already or expired")
	// ErrFlowInvalid: the callback's state is unknown, used, expired, or
	// belongs to another browser.
	ErrFlowInvalid = errors.New("this sign-in is unknown, was completed already, expired, or was started in another browser")
	// ErrNoRegistration: no client registration method fits the upstream.
	ErrNoRegistration = errors.New("no client registration method fits the upstream's authorization server")
	// ErrUpstreamDenied: the upstream's authorization server answered the
	// sign-in with an error (the user declined, or the request was refused).
	ErrUpstreamDenied = errors.New("the upstream's authorization server refused the sign-in")
)

// flow is one started sign-in, kept until its callback.
type flow struct {
	ticket
	verifier  string
	resource  string
	issuer    string
	issParam  bool
	cfg       oauth2.Config
	method    string
	revokeURL string
}

type client struct {
	id, secret, method string
}

// Peek returns the link's pending connect without using it up (the
// confirmation page names who connects what).
func (s *Service) Peek(tk string) (user, slug string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[tk]
	if !ok || s.now().After(t.expires) {
		return "", "", ErrLinkInvalid
	}
	return t.user, t.slug, nil
}

// Start uses up a connect link and returns the upstream's authorization
// URL to send the browser to, and the flow's state (the page binds it to
// the browser with a cookie).
func (s *Service) Start(ctx context.Context, tk string) (authURL, state string, err error) {
	s.mu.Lock()
	t, ok := s.tickets[tk]
	delete(s.tickets, tk)
	s.mu.Unlock()
	if !ok || s.now().After(t.expires) {
		return "", "", ErrLinkInvalid
	}
	c, ok := s.connectors.Lookup(t.slug)
	if !ok || c.ID != t.connID {
		return "", "", fmt.Errorf("connector %q is gone: %w", t.slug, ErrLinkInvalid)
	}
	ch, oauth, err := s.wantsOAuth(ctx, c)
	if err != nil {
		return "", "", fmt.Errorf("connector %q: %w", c.Slug, err)
	}
	if !oauth {
		return "", "", fmt.Errorf("connector %q: its upstream does not ask for OAuth sign-in", c.Slug)
	}
	d, err := s.discover(ctx, c.URL, ch)
	if err != nil {
		return "", "", fmt.Errorf("connector %q: discovery: %w", c.Slug, err)
	}
	if !slices.Contains(d.AS.CodeChallengeMethodsSupported, "S256") && len(d.AS.CodeChallengeMethodsSupported) > 0 {
		return "", "", fmt.Errorf("connector %q: the authorization server %s does not support PKCE S256", c.Slug, d.AS.Issuer)
	}
	cl, err := s.register(ctx, c, d.AS)
	if err != nil {
		return "", "", fmt.Errorf("connector %q: %w", c.Slug, err)
	}
	scopes := d.Scopes
	if o := c.Auth.OAuth2; o != nil && len(o.Scopes) > 0 {
		scopes = o.Scopes
	}
	for _, sc := range s.stepUpScopes(c.ID, t.user) {
		if !slices.Contains(scopes, sc) {
			scopes = append(slices.Clone(scopes), sc)
		}
	}
	if slices.Contains(d.AS.ScopesSupported, "offline_access") && !slices.Contains(scopes, "offline_access") {
		scopes = append(slices.Clone(scopes), "offline_access")
	}
	f := &flow{
		ticket: ticket{user: t.user, connID: c.ID, slug: c.Slug, expires: s.now().Add(s.opts.LinkTTL)},
		cfg:    oauth2Config(cl.id, cl.secret, cl.method, d.AS.AuthorizationEndpoint, d.AS.TokenEndpoint),
		method: cl.method, verifier: oauth2.GenerateVerifier(), resource: d.Resource,
		issuer: d.AS.Issuer, issParam: d.AS.AuthorizationResponseIssParameterSupported, revokeURL: d.AS.RevocationEndpoint,
	}
	f.cfg.RedirectURL = s.RedirectURI()
	f.cfg.Scopes = scopes
	state = randomToken()
	s.mu.Lock()
	s.sweepLocked()
	s.flows[state] = f
	s.mu.Unlock()
	return f.cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(f.verifier), oauth2.SetAuthURLParam("resource", f.resource)), state, nil
}

// CallbackResult is what a completed callback says.
type CallbackResult struct {
	Slug, User string
}

// Callback completes a flow: it checks the state against the browser's
// cookie, the issuer (RFC 9207), exchanges the code with the PKCE
// verifier and the resource, and stores the token. The flow is used up
// whatever the outcome.
func (s *Service) Callback(ctx context.Context, q url.Values, cookieState string) (CallbackResult, error) {
	state := q.Get("state")
	s.mu.Lock()
	f, ok := s.flows[state]
	if ok && cookieState != "" && subtle.ConstantTimeCompare([]byte(state), []byte(cookieState)) == 1 {
		delete(s.flows, state)
	} else {
		ok = false
	}
	s.mu.Unlock()
	if !ok || s.now().After(f.expires) {
		return CallbackResult{}, ErrFlowInvalid
	}
	res := CallbackResult{Slug: f.slug, User: f.user}
	if e := q.Get("error"); e != "" {
		desc := q.Get("error_description")
		return res, fmt.Errorf("%w: %s %s", ErrUpstreamDenied, e, desc)
	}
	if err := checkIssuer(q.Get("iss"), f.issuer, f.issParam); err != nil {
		return res, err
	}
	code := q.Get("code")
	if code == "" {
		return res, fmt.Errorf("%w: the callback carries no code", ErrUpstreamDenied)
	}
	c, ok := s.connectors.Lookup(f.slug)
	if !ok || c.ID != f.connID {
		return res, fmt.Errorf("connector %q was removed during the sign-in", f.slug)
	}
	tok, err := f.cfg.Exchange(s.clientContext(ctx), code, oauth2.VerifierOption(f.verifier), oauth2.SetAuthURLParam("resource", f.resource))
	if err != nil {
		return res, fmt.Errorf("token exchange with %s: %w", f.issuer, err)
	}
	if tok.AccessToken == "" {
		return res, fmt.Errorf("token exchange with %s: no access token", f.issuer)
	}
	scope, _ := tok.Extra("scope").(string)
	rec := store.UpstreamToken{
		AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken,
		Expiry: s.expiry(tok), Scope: scope, Issuer: f.issuer, Resource: f.resource,
		ClientID: f.cfg.ClientID, ClientSecret: f.cfg.ClientSecret, AuthMethod: f.method,
		TokenURL: f.cfg.Endpoint.TokenURL, RevocationURL: f.revokeURL, UpdatedAt: s.now().UTC(),
	}
	// A token replaced by a new connection is revoked: it is no longer
	// the gateway's to hold.
	if old, err := s.tokens.Token(ctx, c.ID, f.user); err == nil {
		s.revoke(ctx, old)
	}
	if err := s.tokens.PutToken(ctx, c.ID, f.user, rec); err != nil {
		return res, err
	}
	return res, nil
}

// checkIssuer applies RFC 9207: an advertised iss must be present and
// match; an unadvertised one must match when present.
func checkIssuer(iss, want string, advertised bool) error {
	switch {
	case iss == "" && advertised:
		return fmt.Errorf("%w: the authorization server advertises the iss parameter (RFC 9207) but sent none", ErrUpstreamDenied)
	case iss != "" && iss != want:
		return fmt.Errorf("%w: the response's issuer %q is not the expected %q (a mix-up attack?)", ErrUpstreamDenied, iss, want)
	}
	return nil
}

// register returns the client the gateway is at the upstream's
// authorization server: pre-registered, CIMD or dynamically registered
// (once per connector, kept sealed in the store).
func (s *Service) register(ctx context.Context, c *connector.Connector, as *oauthex.AuthServerMeta) (client, error) {
	o := c.Auth.OAuth2
	if o == nil {
		o = &connector.OAuth2{}
	}
	cimdOK := as.ClientIDMetadataDocumentSupported && strings.HasPrefix(s.opts.PublicURL, "https://")
	switch o.Registration {
	case connector.RegistrationPreregistered:
		return client{id: o.ClientID, secret: o.ClientSecret, method: authMethod(o.ClientSecret, as.TokenEndpointAuthMethodsSupported)}, nil
	case connector.RegistrationCIMD:
		if !as.ClientIDMetadataDocumentSupported {
			return client{}, fmt.Errorf("%w: registration cimd, but %s does not advertise client_id_metadata_document_supported", ErrNoRegistration, as.Issuer)
		}
		if !strings.HasPrefix(s.opts.PublicURL, "https://") {
			return client{}, fmt.Errorf("%w: registration cimd needs the gateway's public_url to be HTTPS (it is %s)", ErrNoRegistration, s.opts.PublicURL)
		}
		return client{id: s.ClientMetadataURL(), method: "none"}, nil
	case connector.RegistrationDynamic:
		return s.dynamic(ctx, c, as)
	}
	switch {
	case o.ClientID != "":
		return client{id: o.ClientID, secret: o.ClientSecret, method: authMethod(o.ClientSecret, as.TokenEndpointAuthMethodsSupported)}, nil
	case cimdOK:
		return client{id: s.ClientMetadataURL(), method: "none"}, nil
	case as.RegistrationEndpoint != "":
		return s.dynamic(ctx, c, as)
	}
	return client{}, fmt.Errorf("%w: %s offers no dynamic registration and no client id is configured (set auth.oauth2.client_id)", ErrNoRegistration, as.Issuer)
}

func (s *Service) dynamic(ctx context.Context, c *connector.Connector, as *oauthex.AuthServerMeta) (client, error) {
	if as.RegistrationEndpoint == "" {
		return client{}, fmt.Errorf("%w: registration dcr, but %s has no registration_endpoint", ErrNoRegistration, as.Issuer)
	}
	if saved, err := s.tokens.Client(ctx, c.ID); err == nil && saved.Issuer == as.Issuer && saved.RedirectURI == s.RedirectURI() {
		return client{id: saved.ClientID, secret: saved.ClientSecret, method: saved.AuthMethod}, nil
	}
	resp, err := oauthex.RegisterClient(ctx, as.RegistrationEndpoint, s.clientMetadata(), s.http)
	if err != nil {
		return client{}, fmt.Errorf("dynamic client registration at %s: %w", as.RegistrationEndpoint, err)
	}
	method := resp.TokenEndpointAuthMethod
	if method == "" {
		method = authMethod(resp.ClientSecret, nil)
	}
	cl := store.UpstreamClient{Issuer: as.Issuer, ClientID: resp.ClientID, ClientSecret: resp.ClientSecret,
		AuthMethod: method, RedirectURI: s.RedirectURI(), CreatedAt: s.now().UTC()}
	if err := s.tokens.PutClient(ctx, c.ID, cl); err != nil {
		return client{}, err
	}
	return client{id: cl.ClientID, secret: cl.ClientSecret, method: cl.AuthMethod}, nil
}

// clientMetadata is the gateway as an OAuth client: what dynamic
// registration sends and what the CIMD document says.
func (s *Service) clientMetadata() *oauthex.ClientRegistrationMetadata {
	return &oauthex.ClientRegistrationMetadata{
		RedirectURIs:            []string{s.RedirectURI()},
		TokenEndpointAuthMethod: "none",
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		ClientName:              s.opts.ClientName,
		ClientURI:               s.opts.PublicURL,
		ApplicationType:         "web",
	}
}

// authMethod picks the token endpoint auth method for a client with
// secret: none without one; else client_secret_post when offered, else
// client_secret_basic (RFC 7591's default).
func authMethod(secret string, supported []string) string {
	switch {
	case secret == "":
		return "none"
	case slices.Contains(supported, "client_secret_post"):
		return "client_secret_post"
	default:
		return "client_secret_basic"
	}
}

func oauth2Config(id, secret, method, authURL, tokenURL string) oauth2.Config {
	style := oauth2.AuthStyleInParams
	if method == "client_secret_basic" {
		style = oauth2.AuthStyleInHeader
	}
	return oauth2.Config{ClientID: id, ClientSecret: secret,
		Endpoint: oauth2.Endpoint{AuthURL: authURL, TokenURL: tokenURL, AuthStyle: style}}
}

// Disconnect revokes and forgets user's token at c (none is fine).
func (s *Service) Disconnect(ctx context.Context, c *connector.Connector, user string) (bool, error) {
	tok, err := s.tokens.Token(ctx, c.ID, user)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.revoke(ctx, tok)
	return true, s.tokens.DeleteToken(ctx, c.ID, user)
}

// ForgetConnector revokes and forgets every user's token at c and its
// registered client (the connector is being removed). It returns how
// many tokens it dropped.
func (s *Service) ForgetConnector(ctx context.Context, c *connector.Connector) (int, error) {
	owners, err := s.tokens.Owners(ctx, c.ID, "")
	if err != nil {
		return 0, err
	}
	n, err := s.forget(ctx, owners)
	if err != nil {
		return n, err
	}
	if err := s.tokens.DeleteClient(ctx, c.ID); err != nil {
		return n, err
	}
	s.mu.Lock()
	for k := range s.probed {
		if strings.HasPrefix(k, c.ID+" ") {
			delete(s.probed, k)
		}
	}
	s.mu.Unlock()
	return n, nil
}

// ForgetUser revokes and forgets every upstream token of user (the user
// is being removed). It returns how many tokens it dropped.
func (s *Service) ForgetUser(ctx context.Context, user string) (int, error) {
	owners, err := s.tokens.Owners(ctx, "", user)
	if err != nil {
		return 0, err
	}
	return s.forget(ctx, owners)
}

// forget revokes and deletes the tokens of owners, counting those
// dropped.
func (s *Service) forget(ctx context.Context, owners []store.TokenOwner) (int, error) {
	n := 0
	for _, o := range owners {
		if tok, err := s.tokens.Token(ctx, o.ConnectorID, o.User); err == nil {
			s.revoke(ctx, tok)
		}
		if err := s.tokens.DeleteToken(ctx, o.ConnectorID, o.User); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// revoke asks the upstream to revoke tok (RFC 7009): the refresh token
// first (which revokes the grant at most servers), then the access token.
// Failures are logged, not returned: the gateway forgets the token either
// way, and an upstream without a revocation endpoint lets it expire.
func (s *Service) revoke(ctx context.Context, tok store.UpstreamToken) {
	if tok.RevocationURL == "" {
		return
	}
	for _, p := range []struct{ value, hint string }{{tok.RefreshToken, "refresh_token"}, {tok.AccessToken, "access_token"}} {
		if p.value == "" {
			continue
		}
		form := url.Values{"token": {p.value}, "token_type_hint": {p.hint}}
		status, err := s.formPost(ctx, tok.RevocationURL, form, tok.ClientID, tok.ClientSecret, tok.AuthMethod)
		if err != nil || status != 200 {
			s.log.Warn().Err(err).Int("status", status).Str("issuer", tok.Issuer).Str("token_type_hint", p.hint).Msg("upstream token revocation failed; the gateway forgets the token anyway")
		}
	}
}
