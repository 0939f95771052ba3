// Package auth authenticates MCP clients and admin API callers: the
// bootstrap owner token, API tokens (stored as digests) and the anonymous
// local mode; the OAuth authorization server extends it.
package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"
)

// Roles known to the gateway.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Principal is an authenticated caller.
type Principal struct {
	User  string
	Roles []string
	// TokenID is the API token the caller presented ("" for the bootstrap
	// owner token and anonymous callers).
	TokenID string
	// Provider names the Provider that authenticated the caller ("" for
	// the owner token, API tokens and anonymous callers).
	Provider string
	// System marks the gateway acting on its own behalf (registration
	// scans of a connector's tools): it sees every tool, policies aside.
	// Authentication never yields a System principal.
	System bool
	// bootstrap: authenticated by the bootstrap owner token, which holds
	// the owner role whatever the store says.
	bootstrap bool
}

// HasRole reports whether the principal holds role.
func (p Principal) HasRole(role string) bool {
	for _, r := range p.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// IsAdmin reports whether the principal may use the admin API.
func (p Principal) IsAdmin() bool { return p.HasRole(RoleOwner) || p.HasRole(RoleAdmin) }

// Errors callers branch on.
var (
	ErrNoCredentials = errors.New("no bearer token")
	ErrInvalidToken  = errors.New("invalid token")
	ErrTokenExpired  = errors.New("token expired")
	ErrTokenRevoked  = errors.New("token revoked")
	ErrUserDisabled  = errors.New("user disabled")
)

// Directory is what authentication consults: API tokens by digest, users
// by id, and the roles bound to a user (core/store and core/policy
// together implement it). TokenByDigest returns an error wrapping a
// not-found error the directory recognises via IsNotFound.
type Directory interface {
	TokenByDigest(ctx context.Context, digestHex string) (*Token, error)
	User(ctx context.Context, id string) (*User, error)
	Roles(user string) []string
	IsNotFound(err error) bool
}

// OwnerUser is the user the bootstrap owner token acts as.
const OwnerUser = "owner"

// Authenticator checks bearer tokens: the bootstrap owner token (kept as a
// digest) and API tokens from the directory.
type Authenticator struct {
	ownerHash [sha256.Size]byte
	anonymous string
	// anonymousRoles are the roles of the anonymous user when no role is
	// bound to it.
	anonymousRoles []string
	dir            Directory
	providers      []Provider
	now            func() time.Time
	tokens         tokenCache // lookups by digest (tokencache.go)
}

// New returns an authenticator. The bootstrap owner token is given as its
// SHA-256 digest (the token itself is never stored). When anonymousUser is
// non-empty, requests without a token act as that user
// (GATEHOUSE_CLIENT_AUTH=none); a token that is sent must still be valid.
// dir may be nil: then only the owner token authenticates.
func New(ownerTokenHash [sha256.Size]byte, anonymousUser string, dir Directory) *Authenticator {
	return &Authenticator{ownerHash: ownerTokenHash, anonymous: anonymousUser, anonymousRoles: []string{RoleMember}, dir: dir, now: time.Now}
}

// WithAnonymousRoles sets the roles an anonymous caller holds when none
// is bound to its user (default: member).
func (a *Authenticator) WithAnonymousRoles(roles []string) *Authenticator {
	a.anonymousRoles = append([]string(nil), roles...)
	return a
}

// Refresh re-reads the roles of a principal authenticated earlier (a
// session's), so role changes apply to sessions already open.
func (a *Authenticator) Refresh(p Principal) Principal {
	if p.System {
		return p
	}
	if p.Provider != "" {
		// A provider's caller: the directory's roles when it binds any,
		// else those the provider gave.
		if a.dir != nil {
			if roles := a.dir.Roles(p.User); len(roles) != 0 {
				p.Roles = roles
			}
		}
		return p
	}
	return a.principal(p.User, p.TokenID, p.bootstrap)
}

// Authenticate reads an Authorization header value. Anonymous callers are
// admitted only where allowAnonymous (the MCP endpoints, never the admin API).
func (a *Authenticator) Authenticate(ctx context.Context, header []byte, allowAnonymous bool) (Principal, error) {
	token, ok := bearer(header)
	if !ok {
		if len(header) == 0 && allowAnonymous && a.anonymous != "" {
			return a.principal(a.anonymous, "", false), nil
		}
		if len(header) != 0 && len(a.providers) != 0 {
			// Another scheme (Basic, a plugin's own): the providers' call.
			return a.fromProviders(ctx, header)
		}
		return Principal{}, ErrNoCredentials
	}
	// Compare digests in constant time: the token's length leaks nothing.
	got := sha256.Sum256(token)
	if subtle.ConstantTimeCompare(got[:], a.ownerHash[:]) == 1 {
		return a.principal(OwnerUser, "", true), nil
	}
	if !bytes.HasPrefix(token, []byte(TokenPrefix)) {
		return a.fromProviders(ctx, header)
	}
	if a.dir == nil {
		return Principal{}, ErrInvalidToken
	}
	hexDigest := DigestHex(got)
	gd, cacheable := a.dir.(Generational)
	var gen uint64
	if cacheable {
		gen = gd.Generation() // read before the lookup: a write after it invalidates
		if e, ok := a.tokens.get(hexDigest, gen, a.now()); ok {
			return a.principal(e.user, e.tokenID, false), nil
		}
	}
	t, err := a.dir.TokenByDigest(ctx, hexDigest)
	if err != nil {
		if a.dir.IsNotFound(err) {
			return Principal{}, ErrInvalidToken
		}
		return Principal{}, fmt.Errorf("look up token: %w", err)
	}
	// The lookup was by digest; compare again in constant time so that a
	// lookup structure with early exits cannot matter.
	if subtle.ConstantTimeCompare([]byte(t.Digest), []byte(hexDigest)) != 1 {
		return Principal{}, ErrInvalidToken
	}
	now := a.now()
	switch {
	case t.RevokedAt != nil:
		return Principal{}, fmt.Errorf("%w (token %s)", ErrTokenRevoked, t.ID)
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return Principal{}, fmt.Errorf("%w at %s (token %s)", ErrTokenExpired, t.ExpiresAt.Format(time.RFC3339), t.ID)
	}
	u, err := a.dir.User(ctx, t.User)
	if err != nil {
		if a.dir.IsNotFound(err) {
			return Principal{}, ErrInvalidToken
		}
		return Principal{}, fmt.Errorf("look up user: %w", err)
	}
	if u.Disabled {
		return Principal{}, fmt.Errorf("%w: %s", ErrUserDisabled, u.ID)
	}
	if cacheable {
		a.tokens.put(hexDigest, cachedToken{gen: gen, until: now.Add(tokenCacheTTL), expires: t.ExpiresAt, user: u.ID, tokenID: t.ID})
	}
	return a.principal(u.ID, t.ID, false), nil
}

func (a *Authenticator) principal(user, tokenID string, bootstrap bool) Principal {
	p := Principal{User: user, TokenID: tokenID, bootstrap: bootstrap}
	if a.dir != nil {
		p.Roles = a.dir.Roles(user)
	}
	switch {
	case bootstrap && !p.HasRole(RoleOwner):
		p.Roles = append(p.Roles, RoleOwner)
	case !bootstrap && len(p.Roles) == 0 && user == a.anonymous:
		p.Roles = append([]string(nil), a.anonymousRoles...)
	}
	return p
}

func bearer(header []byte) ([]byte, bool) {
	const prefix = "bearer "
	if len(header) <= len(prefix) || !bytes.EqualFold(header[:len(prefix)], []byte(prefix)) {
		return nil, false
	}
	tok := bytes.TrimSpace(header[len(prefix):])
	return tok, len(tok) > 0
}

// HashToken is the digest New expects.
func HashToken(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }
