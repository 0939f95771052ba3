// Package auth authenticates MCP clients and admin API callers. For now it
// knows the bootstrap owner token and the anonymous local mode; API tokens
// and the OAuth authorization server extend it.
package auth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
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
	ErrInvalidToken  = errors.New("invalid or expired token")
)

// Authenticator checks bearer tokens.
type Authenticator struct {
	ownerHash [sha256.Size]byte
	anonymous *Principal
}

// New returns an authenticator for the bootstrap owner token, given as its
// SHA-256 digest (the token itself is never stored). When
// anonymousUser is non-empty, requests without a token act as that user
// (GATEHOUSE_CLIENT_AUTH=none); a token that is sent must still be valid.
func New(ownerTokenHash [sha256.Size]byte, anonymousUser string) *Authenticator {
	a := &Authenticator{ownerHash: ownerTokenHash}
	if anonymousUser != "" {
		a.anonymous = &Principal{User: anonymousUser, Roles: []string{RoleMember}}
	}
	return a
}

// Authenticate reads an Authorization header value. Anonymous callers are
// admitted only where allowAnonymous (the MCP endpoints, never the admin API).
func (a *Authenticator) Authenticate(header []byte, allowAnonymous bool) (Principal, error) {
	token, ok := bearer(header)
	if !ok {
		if len(header) == 0 && allowAnonymous && a.anonymous != nil {
			return *a.anonymous, nil
		}
		return Principal{}, ErrNoCredentials
	}
	// Compare digests in constant time: the token's length leaks nothing.
	got := sha256.Sum256(token)
	if subtle.ConstantTimeCompare(got[:], a.ownerHash[:]) == 1 {
		return Principal{User: RoleOwner, Roles: []string{RoleOwner}}, nil
	}
	return Principal{}, ErrInvalidToken
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
