// Package oauth is Gatehouse's OAuth 2.1 authorization server and the
// resource-server half of the MCP authorization spec: metadata (RFC 8414,
// RFC 9728), the authorization code grant with PKCE S256 only, refresh
// tokens rotated with reuse detection, revocation (RFC 7009), clients by
// Client ID Metadata Document, dynamic registration (RFC 7591) or the
// admin API, local sign-in and consent pages, and the auth.Provider that
// validates the access tokens it issues, bound to one MCP endpoint each
// (RFC 8707). docs/oauth.md describes the endpoints and what is stored.
package oauth

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/auth/redirect"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// Store keeps the server's records; store.OAuthRepo implements it.
type Store interface {
	Put(ctx context.Context, kind, id string, value []byte, ttl time.Duration, sealed bool) error
	Get(ctx context.Context, kind, id string) ([]byte, error)
	Take(ctx context.Context, kind, id string) ([]byte, error)
	Delete(ctx context.Context, kind, id string) error
	Update(ctx context.Context, kind, id string, fn func(old []byte, found bool) (store.OAuthChange, error)) error
	List(ctx context.Context, kind string) (map[string][]byte, error)
}

// Signer signs and verifies the access tokens; *keys.Ring implements it.
type Signer interface {
	Sign(typ string, claims ...any) (string, error)
	Verify(token, typ string, out ...any) error
	JWKS() []byte
}

// Users is the user directory sign-in consults (store.Directory).
type Users interface {
	User(ctx context.Context, id string) (*auth.User, error)
}

// RedirectRules decides whether a redirect URI may receive a code
// (core/auth/redirect's Rules).
type RedirectRules interface {
	Decide(ctx context.Context, r redirect.Request) (redirect.Decision, error)
}

// Auditor records audit entries without waiting (audit.Log).
type Auditor interface {
	Record(e *audit.Entry)
}

// Record kinds in the Store.
const (
	kindClient   = "client"
	kindCode     = "code"
	kindCodeUsed = "code-used"
	kindRefresh  = "refresh"
	kindFamily   = "family"
	kindRevoked  = "revoked"
	kindConsent  = "consent"
	kindPassword = "password"
	kindRequest  = "authz-request"
	// kindAssertion records a spent ID-JAG (its issuer and jti).
	kindAssertion = "assertion"
	// kindOIDCState is a sign-in in flight at the OIDC provider.
	kindOIDCState = "oidc-state"
)

// Scopes.
const (
	// ScopeMCP lets a client use the MCP endpoint its token is bound to,
	// as far as the user's policies allow.
	ScopeMCP = "mcp"
)

// supportedScopes are the scopes a client may ask for.
var supportedScopes = []string{ScopeMCP}

// Defaults for Config's zero values.
const (
	DefaultAccessTTL  = time.Hour
	DefaultRefreshTTL = 30 * 24 * time.Hour
	DefaultCodeTTL    = time.Minute
	DefaultRequestTTL = 10 * time.Minute
	// DefaultRegistrationMaxBytes bounds a DCR request body.
	DefaultRegistrationMaxBytes = 16 << 10
	// DefaultRegistrationsPerMinute bounds dynamic registrations, all
	// callers together (each one is a stored record).
	DefaultRegistrationsPerMinute = 20
)

// Config sets the server's parameters.
type Config struct {
	// Issuer is the gateway's public base URL without a trailing slash
	// (config public_url): the tokens' iss and the base of every
	// endpoint and resource URL.
	Issuer string
	// AccessTTL, RefreshTTL, CodeTTL: lifetimes of access tokens,
	// refresh tokens (the family's, from its first grant) and codes.
	AccessTTL, RefreshTTL, CodeTTL time.Duration
	// RequestTTL bounds the time from /oauth/authorize to consent.
	RequestTTL time.Duration
	// PasswordCost is the bcrypt cost of new password hashes (default
	// bcrypt.DefaultCost + 2).
	PasswordCost int
	// RegistrationMaxBytes bounds a registration request body.
	RegistrationMaxBytes int
	// RegistrationsPerMinute bounds dynamic registrations (0: default;
	// negative: no registration at all).
	RegistrationsPerMinute int
	// CIMD configures the fetching of client metadata documents.
	CIMD CIMDConfig
	// RegistrationsPerIPPerHour bounds dynamic registrations from one
	// client address in an hour (0: the default; negative: no limit).
	RegistrationsPerIPPerHour int
	// SignInFailuresPerUser and SignInFailuresPerIP bound wrong passwords
	// within SignInWindow for one user name and from one client address
	// (0: the defaults; negative: no limit).
	SignInFailuresPerUser, SignInFailuresPerIP int
	SignInWindow                               time.Duration
	// EnterpriseIdPs are the identity providers whose identity assertion
	// grants (ID-JAG, SEP-990) the token endpoint accepts; none: the
	// jwt-bearer grant is off.
	EnterpriseIdPs []EnterpriseIdP
	// OIDC, when set, offers sign-in at an upstream OpenID Connect
	// identity provider beside passwords.
	OIDC *OIDCConfig
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Deps are the server's collaborators.
type Deps struct {
	Store     Store
	Keys      Signer
	Users     Users
	Redirects RedirectRules
	Audit     Auditor
	// Fetch fetches CIMD documents; NewFetcher builds the real one.
	Fetch DocumentFetcher
	// FetchKeys fetches the enterprise IdPs' key sets (a Fetcher with a
	// larger size bound than a metadata document's).
	FetchKeys DocumentFetcher
	Log       zerolog.Logger
}

// Server is the authorization server and token validator.
type Server struct {
	cfg     Config
	d       Deps
	tokens  *validator
	regRate *rateLimit
	clients *clientCache
	idpKeys *idpKeyCache
	oidc    *oidcLogin // nil: passwords only
	// userFails and ipFails count wrong passwords, ipRegs registrations
	// per client address (attempts.go).
	userFails, ipFails, ipRegs *attempts
	pages                      *pages
	mux                        *http.ServeMux

	dummyOnce sync.Once
	dummy     []byte
}

// New builds the server and loads the revocation list.
func New(ctx context.Context, cfg Config, d Deps) (*Server, error) {
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = DefaultAccessTTL
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = DefaultRefreshTTL
	}
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = DefaultCodeTTL
	}
	if cfg.RequestTTL <= 0 {
		cfg.RequestTTL = DefaultRequestTTL
	}
	if cfg.PasswordCost == 0 {
		cfg.PasswordCost = defaultPasswordCost
	}
	if cfg.RegistrationMaxBytes <= 0 {
		cfg.RegistrationMaxBytes = DefaultRegistrationMaxBytes
	}
	if cfg.RegistrationsPerMinute == 0 {
		cfg.RegistrationsPerMinute = DefaultRegistrationsPerMinute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.CIMD = cfg.CIMD.withDefaults()
	for _, idp := range cfg.EnterpriseIdPs {
		if err := idp.check(); err != nil {
			return nil, err
		}
	}
	s := &Server{cfg: cfg, d: d}
	s.idpKeys = newIDPKeyCache(d.FetchKeys, cfg.Now)
	if cfg.SignInWindow <= 0 {
		cfg.SignInWindow = DefaultSignInWindow
	}
	s.userFails = newAttempts(orDefault(cfg.SignInFailuresPerUser, DefaultSignInFailuresPerUser), cfg.SignInWindow, cfg.Now)
	s.ipFails = newAttempts(orDefault(cfg.SignInFailuresPerIP, DefaultSignInFailuresPerIP), cfg.SignInWindow, cfg.Now)
	s.ipRegs = newAttempts(orDefault(cfg.RegistrationsPerIPPerHour, DefaultRegistrationsPerIPPerHour), time.Hour, cfg.Now)
	if cfg.OIDC != nil {
		if err := cfg.OIDC.check(); err != nil {
			return nil, err
		}
		oc := *cfg.OIDC
		if oc.UserClaim == "" {
			oc.UserClaim = "email"
		}
		if oc.Name == "" {
			oc.Name = "single sign-on"
		}
		s.oidc = &oidcLogin{cfg: oc, redirect: cfg.Issuer + oidcCallbackPath}
	}
	s.tokens = newValidator(cfg, d.Keys)
	if err := s.tokens.loadRevoked(ctx, d.Store); err != nil {
		return nil, err
	}
	s.regRate = newRateLimit(cfg.RegistrationsPerMinute, cfg.Now)
	s.clients = newClientCache(cfg.CIMD, cfg.Now)
	var err error
	if s.pages, err = newPages(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /.well-known/oauth-protected-resource", s.protectedResource)
	m.HandleFunc("GET /.well-known/oauth-protected-resource/{rest...}", s.protectedResource)
	m.HandleFunc("GET /.well-known/oauth-authorization-server", s.authorizationServer)
	m.HandleFunc("GET /.well-known/oauth-authorization-server/{rest...}", s.authorizationServer)
	m.HandleFunc("GET /oauth/jwks", s.jwks)
	m.HandleFunc("GET /oauth/authorize", s.authorize)
	m.HandleFunc("POST /oauth/authorize", s.authorize)
	m.HandleFunc("POST /oauth/login", s.login)
	m.HandleFunc("POST /oauth/consent", s.consent)
	m.HandleFunc("POST /oauth/token", s.token)
	m.HandleFunc("POST /oauth/revoke", s.revoke)
	m.HandleFunc("POST /oauth/register", s.register)
	if s.oidc != nil {
		m.HandleFunc("POST /oauth/oidc/start", s.oidcStart)
		m.HandleFunc("GET "+oidcCallbackPath, s.oidcCallback)
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "no such OAuth endpoint"})
	})
	s.mux = m
}

// orDefault is n, or def when n is zero (negative stays: "off").
func orDefault(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// ServeHTTP serves the OAuth endpoints and metadata documents.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

// Name names the provider in the audit log.
func (s *Server) Name() string { return "oauth" }

// now is the server's clock.
func (s *Server) now() time.Time { return s.cfg.Now() }

// audit records an OAuth event: outcome success, or denied with the
// OAuth error code.
func (s *Server) audit(action, actor, client string, oerr *Error, details map[string]any) {
	if s.d.Audit == nil {
		return
	}
	if actor == "" {
		actor = "anonymous"
	}
	e := &audit.Entry{Actor: actor, Action: action, Target: client, Outcome: audit.OutcomeSuccess, Details: details}
	if oerr != nil {
		e.Outcome = audit.OutcomeDenied
		e.Error = oerr.Code + ": " + oerr.Description
	}
	s.d.Audit.Record(e)
}
