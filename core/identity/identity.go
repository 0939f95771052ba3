// Package identity tells an HTTP connector's upstream who the gateway's
// caller is (the connector's advanced.identity_forward): plain headers
// (user id, email, roles) or a short-lived signed JWT (iss the gateway,
// aud the connector's URL, sub the user) whose keys the gateway publishes
// as a JWKS document and rotates (core/auth/keys, purpose
// "identity-forward"). The client's own credential is never part of it.
package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

// Modes of advanced.identity_forward.mode.
const (
	ModeHeaders = "headers"
	ModeJWT     = "jwt"
)

// Headers the upstream receives (docs/identity-forward.md).
const (
	HeaderUser  = "X-Gatehouse-User"
	HeaderEmail = "X-Gatehouse-Email"
	HeaderRoles = "X-Gatehouse-Roles"
	// HeaderJWT carries the signed identity in mode jwt. It is not
	// Authorization, which stays the connector's own (bearer, OAuth).
	HeaderJWT = "X-Gatehouse-Identity"
)

// TokenType is the JWT's typ header (RFC 8725 explicit typing), so an
// identity token is never mistaken for an access token.
const TokenType = "gatehouse-identity+jwt"

// JWKSPath is where the gateway publishes the keys that verify identity
// JWTs, unauthenticated (docs/identity-forward.md).
const JWKSPath = "/.well-known/gatehouse/identity-jwks.json"

// Purpose is the key ring's purpose (its own keys, its own JWKS).
const Purpose = "identity-forward"

// DefaultTTL is an identity JWT's lifetime: a new one is signed for every
// upstream request, so it only has to outlive the request.
const DefaultTTL = 5 * time.Minute

// Users looks up the caller's record and roles (store.Directory
// implements it).
type Users interface {
	User(ctx context.Context, id string) (*auth.User, error)
	Roles(user string) []string
}

// Signer signs the JWT with the ring's current key (*keys.Ring).
type Signer interface {
	Sign(typ string, claims ...any) (string, error)
}

// Options configure a Forwarder.
type Options struct {
	// Issuer is the JWT's iss: the gateway's public URL.
	Issuer string
	// TTL is the JWT's lifetime (DefaultTTL when zero).
	TTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// NotFound is the Users error for an unknown id (store.ErrNotFound):
	// such a caller (the bootstrap owner, anonymous) is forwarded by id.
	NotFound error
}

// Forwarder builds the identity headers of a user's upstream requests.
type Forwarder struct {
	users  Users
	signer Signer
	opts   Options
}

// New returns a Forwarder; signer may be nil when no connector uses mode
// jwt (a jwt connector then fails its requests, naming the cause).
func New(users Users, signer Signer, opts Options) *Forwarder {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Issuer = strings.TrimRight(opts.Issuer, "/")
	return &Forwarder{users: users, signer: signer, opts: opts}
}

// Claims are the identity JWT's claims.
type Claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  string   `json:"aud"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf"`
	Expiry    int64    `json:"exp"`
	ID        string   `json:"jti"`
	Email     string   `json:"email,omitempty"`
	Name      string   `json:"name,omitempty"`
	Roles     []string `json:"roles"`
	// Connector is the connector's slug at the gateway.
	Connector string `json:"gatehouse_connector"`
}

// Enabled reports whether c forwards identity.
func Enabled(c *connector.Connector) bool {
	return c.Advanced.Identity.Mode != "" && c.Transport != connector.TransportSTDIO
}

// Headers returns the identity headers of user's request to c (nil when c
// forwards none).
func (f *Forwarder) Headers(ctx context.Context, c *connector.Connector, user string) (map[string]string, error) {
	if !Enabled(c) {
		return nil, nil
	}
	u, err := f.users.User(ctx, user)
	switch {
	case err == nil:
	case f.opts.NotFound != nil && errors.Is(err, f.opts.NotFound):
		u = &auth.User{ID: user}
	default:
		return nil, fmt.Errorf("identity forward: look up user %q: %w", user, err)
	}
	roles := f.users.Roles(user)
	if roles == nil {
		roles = []string{}
	}
	switch c.Advanced.Identity.Mode {
	case ModeHeaders:
		h := map[string]string{HeaderUser: u.ID, HeaderRoles: strings.Join(roles, ",")}
		// A value that cannot travel in a header (a control character
		// in a free-text email) is left out rather than mangled.
		if u.Email != "" && httpguts.ValidHeaderFieldValue(u.Email) {
			h[HeaderEmail] = u.Email
		}
		return h, nil
	case ModeJWT:
		if f.signer == nil {
			return nil, errors.New("identity forward: no signing key ring is configured")
		}
		now := f.opts.Now()
		tok, err := f.signer.Sign(TokenType, Claims{
			Issuer: f.opts.Issuer, Subject: u.ID, Audience: c.URL,
			IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(f.opts.TTL).Unix(), ID: randomID(),
			Email: u.Email, Name: u.Name, Roles: roles, Connector: c.Slug,
		})
		if err != nil {
			return nil, fmt.Errorf("identity forward: %w", err)
		}
		return map[string]string{HeaderJWT: tok}, nil
	}
	return nil, fmt.Errorf("identity forward: unknown mode %q", c.Advanced.Identity.Mode)
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}
