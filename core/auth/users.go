package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// RoleAuditor reads everything in the admin API and writes nothing.
const RoleAuditor = "auditor"

// BuiltinRoles returns the roles every install has (a fresh slice).
func BuiltinRoles() []string { return []string{RoleOwner, RoleAdmin, RoleMember, RoleAuditor} }

// User is a workspace member. Users authenticate with API tokens (and,
// later, OAuth); what they may do follows from their roles, which the
// policy engine holds.
type User struct {
	// ID is the user's stable handle: 1-64 lowercase letters, digits, dots,
	// dashes, underscores or @, e.g. "alice" or "alice@example.com".
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Email     string    `json:"email,omitempty"`
	Disabled  bool      `json:"disabled,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

var userIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// ValidUserID reports whether id is a well-formed user id.
func ValidUserID(id string) bool { return userIDPattern.MatchString(id) }

// Token is an API token's record. The token itself is never stored: only
// its SHA-256 digest, which authentication looks up.
type Token struct {
	ID         string     `json:"id"`
	User       string     `json:"user"`
	Name       string     `json:"name"`
	Digest     string     `json:"digest"` // hex SHA-256 of the token
	Prefix     string     `json:"prefix"` // the first characters, to recognise it in a list
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Active reports whether the token may authenticate at now.
func (t *Token) Active(now time.Time) bool {
	if t.RevokedAt != nil {
		return false
	}
	return t.ExpiresAt == nil || now.Before(*t.ExpiresAt)
}

// TokenPrefix starts every API token, so secret scanners and people can
// recognise a leaked one.
const TokenPrefix = "gth_"

// NewToken returns a fresh API token and its digest. 32 random bytes:
// guessing one is out of reach, so the digest needs no salt or stretching.
func NewToken() (token string, digest [sha256.Size]byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, sha256.Sum256([]byte(token))
}

// DigestHex is the hex form of a token digest, as stored.
func DigestHex(d [sha256.Size]byte) string { return hex.EncodeToString(d[:]) }

// ParseExpiry reads an expiry given as a duration ("720h", "30d") from now,
// or as an RFC 3339 time. The empty string means no expiry.
func ParseExpiry(s string, now time.Time) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if !t.After(now) {
			return nil, fmt.Errorf("expiry %s is in the past", s)
		}
		t = t.UTC()
		return &t, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || fmt.Sprint(n) != days {
			return nil, fmt.Errorf("expiry %q is neither a duration (720h, 30d) nor an RFC 3339 time", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return nil, fmt.Errorf("expiry %q is neither a duration (720h, 30d) nor an RFC 3339 time", s)
		}
	}
	if d <= 0 {
		return nil, fmt.Errorf("expiry %q must be positive", s)
	}
	t := now.Add(d).UTC()
	return &t, nil
}
