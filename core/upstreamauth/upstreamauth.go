// Package upstreamauth signs the gateway's users in to OAuth-protected
// upstream MCP servers: it finds out whether a connector's upstream wants
// OAuth (auth kind auto), discovers its authorization server (RFC 9728,
// RFC 8414), registers the gateway as a client (a Client ID Metadata
// Document, RFC 7591 dynamic registration, or a pre-registered client),
// runs the connect flow a user starts from a link (authorization code with
// PKCE S256 and the RFC 8707 resource), keeps each user's token sealed in
// the store, refreshes it before it expires and revokes it (RFC 7009) when
// the user disconnects or the user or connector is removed.
//
// The proxy asks it for the Authorization header of each upstream session
// (Authorization); a user without a token gets a JSON-RPC error naming a
// connect link.
package upstreamauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/oauth2"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// Gateway routes of the connect flow (docs/upstream-auth.md).
const (
	// ConnectPrefix + slug starts a connect flow (GET shows what will be
	// connected for whom, POST goes to the upstream's sign-in).
	ConnectPrefix = "/connect/"
	// CallbackPath is the redirect URI registered at every upstream.
	CallbackPath = "/connect/callback"
	// ClientMetadataPath serves the gateway's Client ID Metadata Document;
	// its full URL is the client_id where CIMD is used.
	ClientMetadataPath = "/connect/client-metadata.json"
)

// Tokens keeps users' upstream tokens and connectors' registered
// clients (store.UpstreamTokenRepo implements it).
type Tokens interface {
	PutToken(ctx context.Context, connID, user string, t store.UpstreamToken) error
	Token(ctx context.Context, connID, user string) (store.UpstreamToken, error)
	DeleteToken(ctx context.Context, connID, user string) error
	Owners(ctx context.Context, connID, user string) ([]store.TokenOwner, error)
	PutClient(ctx context.Context, connID string, c store.UpstreamClient) error
	Client(ctx context.Context, connID string) (store.UpstreamClient, error)
	DeleteClient(ctx context.Context, connID string) error
}

// Connectors looks connectors up by slug (the registry snapshot).
type Connectors interface {
	Lookup(slug string) (*connector.Connector, bool)
	List() []*connector.Connector
}

// Options configure a Service.
type Options struct {
	// PublicURL is the gateway's base URL as browsers reach it, without a
	// trailing slash: the redirect URI and the CIMD URL hang off it.
	PublicURL string
	// HTTP carries discovery, registration, token and revocation requests;
	// its dialer should be the SSRF guard's.
	HTTP *http.Client
	// Now is the clock (nil: time.Now), so tests drive expiry.
	Now func() time.Time
	// RefreshMargin is how long before its expiry a token is refreshed
	// (default one minute).
	RefreshMargin time.Duration
	// LinkTTL bounds a connect link and a started flow (default 10 min).
	LinkTTL time.Duration
	// ClientName is shown by upstream consent screens (default Gatehouse).
	ClientName string
	Log        zerolog.Logger
}

// Service is the upstream OAuth client of the gateway. It is safe for
// concurrent use.
type Service struct {
	opts       Options
	http       *http.Client
	tokens     Tokens
	connectors Connectors
	now        func() time.Time
	log        zerolog.Logger

	mu sync.Mutex
	// tickets are unused connect links, flows the started sign-ins
	// (keyed by OAuth state); both single-use and short-lived.
	tickets map[string]ticket
	flows   map[string]*flow
	// probed remembers, per connector id and URL, whether the upstream
	// answered the probe with an OAuth challenge (auth kind auto).
	probed map[string]challenge
	// refreshing serialises refreshes of one user's token at a connector
	// so that a rotating refresh token is used once.
	refreshing map[string]*sync.Mutex
}

type ticket struct {
	user, connID, slug string
	expires            time.Time
}

// maxPending bounds unused links and flows held in memory.
const maxPending = 10000

// New returns a Service.
func New(tokens Tokens, connectors Connectors, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RefreshMargin <= 0 {
		opts.RefreshMargin = time.Minute
	}
	if opts.LinkTTL <= 0 {
		opts.LinkTTL = 10 * time.Minute
	}
	if opts.ClientName == "" {
		opts.ClientName = "Gatehouse"
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	return &Service{
		opts: opts, http: opts.HTTP, tokens: tokens, connectors: connectors, now: opts.Now, log: opts.Log,
		tickets: map[string]ticket{}, flows: map[string]*flow{}, probed: map[string]challenge{},
		refreshing: map[string]*sync.Mutex{},
	}
}

// RedirectURI is the callback every upstream sends users back to.
func (s *Service) RedirectURI() string { return s.opts.PublicURL + CallbackPath }

// ClientMetadataURL is the gateway's CIMD client_id.
func (s *Service) ClientMetadataURL() string { return s.opts.PublicURL + ClientMetadataPath }

// wantsOAuth reports whether c's upstream signs users in with OAuth:
// always for kind oauth2; for auto, when the probe got a 401 naming RFC
// 9728 resource metadata.
func (s *Service) wantsOAuth(ctx context.Context, c *connector.Connector) (challenge, bool, error) {
	switch {
	case c.Transport == connector.TransportSTDIO:
		return challenge{}, false, nil
	case c.Auth.Kind == connector.AuthOAuth2:
		ch, _ := s.cachedProbe(ctx, c)
		return ch, true, nil
	case c.Auth.Kind == connector.AuthAuto:
		ch, err := s.cachedProbe(ctx, c)
		if err != nil {
			return challenge{}, false, err
		}
		// RFC 9728 metadata in the challenge is what marks OAuth: a bare
		// 401 is as likely an API key the connector lacks.
		return ch, ch.OAuth && ch.ResourceMetadata != "", nil
	}
	return challenge{}, false, nil
}

func (s *Service) cachedProbe(ctx context.Context, c *connector.Connector) (challenge, error) {
	key := c.ID + " " + c.URL
	s.mu.Lock()
	ch, ok := s.probed[key]
	s.mu.Unlock()
	if ok {
		return ch, nil
	}
	ch, err := s.probe(ctx, c.URL)
	if err != nil {
		return challenge{}, err
	}
	s.mu.Lock()
	if len(s.probed) >= maxPending {
		clear(s.probed)
	}
	s.probed[key] = ch
	s.mu.Unlock()
	return ch, nil
}

// Authorization returns the Authorization header value user's requests
// to c carry: "" when c's upstream does not use OAuth (or a probe of an
// auto connector failed: the dial then fails on its own), the user's
// token otherwise, refreshed first when it expires within the margin. A
// user who has not connected gets a *mcp.Error with
// CodeUpstreamNotConnected whose data names a fresh connect link.
func (s *Service) Authorization(ctx context.Context, c *connector.Connector, user string) (string, error) {
	_, oauth, err := s.wantsOAuth(ctx, c)
	if err != nil || !oauth {
		return "", nil
	}
	tok, err := s.tokens.Token(ctx, c.ID, user)
	if errors.Is(err, store.ErrNotFound) {
		return "", s.notConnected(c, user, "")
	}
	if err != nil {
		return "", err
	}
	if !tok.Expiry.IsZero() && !s.now().Add(s.opts.RefreshMargin).Before(tok.Expiry) {
		tok, err = s.refresh(ctx, c, user)
		if err != nil {
			return "", err
		}
	}
	typ := tok.TokenType
	if typ == "" || strings.EqualFold(typ, "bearer") {
		typ = "Bearer"
	}
	return typ + " " + tok.AccessToken, nil
}

// NotConnectedData is the data of a CodeUpstreamNotConnected error.
type NotConnectedData struct {
	Connector  string    `json:"connector"`
	ConnectURL string    `json:"connect_url"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func (s *Service) notConnected(c *connector.Connector, user, why string) error {
	link, expires := s.newTicket(c, user)
	msg := fmt.Sprintf("connector %q signs you in to its upstream with OAuth and you have not connected your account%s: open %s (valid until %s) or run `gatehouse connect %s`",
		c.Slug, why, link, expires.UTC().Format(time.RFC3339), c.Slug)
	e := mcp.NewError(mcp.CodeUpstreamNotConnected, msg)
	e.Data, _ = json.Marshal(NotConnectedData{Connector: c.Slug, ConnectURL: link, ExpiresAt: expires.UTC()})
	return e
}

// ConnectLink returns a single-use link that starts user's connect flow
// for c, and when it expires.
func (s *Service) ConnectLink(c *connector.Connector, user string) (string, time.Time) {
	return s.newTicket(c, user)
}

func (s *Service) newTicket(c *connector.Connector, user string) (string, time.Time) {
	t := randomToken()
	expires := s.now().Add(s.opts.LinkTTL)
	s.mu.Lock()
	s.sweepLocked()
	s.tickets[t] = ticket{user: user, connID: c.ID, slug: c.Slug, expires: expires}
	s.mu.Unlock()
	return s.opts.PublicURL + ConnectPrefix + url.PathEscape(c.Slug) + "?ticket=" + t, expires
}

// sweepLocked drops expired links and flows, and the oldest half when
// too many are pending (a flood of links only ever costs the flooder's
// own links).
func (s *Service) sweepLocked() {
	now := s.now()
	for k, t := range s.tickets {
		if now.After(t.expires) {
			delete(s.tickets, k)
		}
	}
	for k, f := range s.flows {
		if now.After(f.expires) {
			delete(s.flows, k)
		}
	}
	if len(s.tickets) >= maxPending {
		clear(s.tickets)
	}
	if len(s.flows) >= maxPending {
		clear(s.flows)
	}
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// refresh gets user a new access token at c with the stored refresh token.
// A refused refresh drops the token: the user must connect again.
func (s *Service) refresh(ctx context.Context, c *connector.Connector, user string) (store.UpstreamToken, error) {
	key := c.ID + "/" + user
	s.mu.Lock()
	m := s.refreshing[key]
	if m == nil {
		m = &sync.Mutex{}
		s.refreshing[key] = m
	}
	s.mu.Unlock()
	m.Lock()
	defer m.Unlock()
	// Another caller may have refreshed while this one waited.
	tok, err := s.tokens.Token(ctx, c.ID, user)
	if errors.Is(err, store.ErrNotFound) {
		return tok, s.notConnected(c, user, "")
	}
	if err != nil {
		return tok, err
	}
	if tok.Expiry.IsZero() || s.now().Add(s.opts.RefreshMargin).Before(tok.Expiry) {
		return tok, nil
	}
	if tok.RefreshToken == "" {
		if s.now().Before(tok.Expiry) {
			return tok, nil // nothing to refresh with; use it while it lasts
		}
		_ = s.tokens.DeleteToken(ctx, c.ID, user)
		return tok, s.notConnected(c, user, " (your token expired and the upstream gave no refresh token)")
	}
	cfg := oauth2Config(tok.ClientID, tok.ClientSecret, tok.AuthMethod, "", tok.TokenURL)
	next, err := cfg.TokenSource(s.clientContext(ctx), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode != "" {
			s.log.Info().Str("connector", c.Slug).Str("user", user).Str("error", re.ErrorCode).Msg("upstream refused the token refresh; the user must connect again")
			_ = s.tokens.DeleteToken(ctx, c.ID, user)
			return tok, s.notConnected(c, user, " (the upstream refused to refresh your token: "+re.ErrorCode+")")
		}
		return tok, mcp.Errorf(mcp.CodeUpstreamUnavailable, "connector %q: refreshing your upstream token failed: %v", c.Slug, err)
	}
	tok.AccessToken = next.AccessToken
	if next.RefreshToken != "" {
		tok.RefreshToken = next.RefreshToken
	}
	if next.TokenType != "" {
		tok.TokenType = next.TokenType
	}
	tok.Expiry = s.expiry(next)
	tok.UpdatedAt = s.now().UTC()
	if err := s.tokens.PutToken(ctx, c.ID, user, tok); err != nil {
		return tok, err
	}
	return tok, nil
}

// expiry is when t expires by the service's clock: x/oauth2 computes
// Expiry from the wall clock, so it is recomputed from ExpiresIn.
func (s *Service) expiry(t *oauth2.Token) time.Time {
	if t.ExpiresIn > 0 {
		return s.now().Add(time.Duration(t.ExpiresIn) * time.Second).UTC()
	}
	return time.Time{}
}

func (s *Service) clientContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, s.http)
}
