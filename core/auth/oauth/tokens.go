package oauth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

// accessTokenType is the JWT typ of access tokens (RFC 9068).
const accessTokenType = "at+jwt"

// maxCachedTokens bounds the verified-token cache.
const maxCachedTokens = 10000

// accessClaims are an access token's claims (RFC 9068 plus the refresh
// family it came from, so revoking the family revokes it too).
type accessClaims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	Family   string `json:"fam,omitempty"`
}

// verified is what the cache keeps of a token whose signature and issuer
// were checked: everything the per-request checks need.
type verified struct {
	user, audience, jti, family string
	scopes                      []string
	expiry, notBefore           time.Time
}

// validator checks access tokens per request: a signature check once per
// token (then a cache hit keyed by the token's hash), expiry, audience,
// scope and the in-memory revocation sets.
type validator struct {
	issuer string
	signer Signer
	now    func() time.Time

	mu         sync.RWMutex
	cache      map[[sha256.Size]byte]*verified
	revokedJTI map[string]time.Time // until the token would expire anyway
	revokedFam map[string]time.Time
}

func newValidator(cfg Config, signer Signer) *validator {
	return &validator{issuer: cfg.Issuer, signer: signer, now: cfg.Now,
		cache: map[[sha256.Size]byte]*verified{}, revokedJTI: map[string]time.Time{}, revokedFam: map[string]time.Time{}}
}

// loadRevoked reads the persisted revocations.
func (v *validator) loadRevoked(ctx context.Context, st Store) error {
	all, err := st.List(ctx, kindRevoked)
	if err != nil {
		return fmt.Errorf("load revoked tokens: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for id, val := range all {
		sec, _ := strconv.ParseInt(string(val), 10, 64)
		until := time.Unix(sec, 0)
		if jti, ok := strings.CutPrefix(id, "jti:"); ok {
			v.revokedJTI[jti] = until
		} else if fam, ok := strings.CutPrefix(id, "fam:"); ok {
			v.revokedFam[fam] = until
		}
	}
	return nil
}

// revoke adds an access token id or a family to the revocation sets and
// persists it until until.
func (v *validator) revoke(ctx context.Context, st Store, kind, id string, until time.Time) error {
	ttl := until.Sub(v.now())
	if ttl <= 0 {
		return nil
	}
	if err := st.Put(ctx, kindRevoked, kind+":"+id, []byte(strconv.FormatInt(until.Unix(), 10)), ttl+time.Minute, false); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if kind == "jti" {
		v.revokedJTI[id] = until
	} else {
		v.revokedFam[id] = until
	}
	return nil
}

// looksLikeJWT is the cheap test of whether a bearer token is ours to
// judge: a compact JWS (three base64url parts, a JSON header).
func looksLikeJWT(tok []byte) bool {
	return bytes.HasPrefix(tok, []byte("eyJ")) && bytes.Count(tok, []byte(".")) == 2
}

// AuthenticateHeader validates an access token this server issued for
// the MCP endpoint the request goes to (auth.RequestPath). Other bearer
// credentials are not its business (auth.ErrNotMine).
func (s *Server) AuthenticateHeader(ctx context.Context, header []byte) (auth.Principal, error) {
	const prefix = "bearer "
	if len(header) <= len(prefix) || !bytes.EqualFold(header[:len(prefix)], []byte(prefix)) {
		return auth.Principal{}, auth.ErrNotMine
	}
	tok := bytes.TrimSpace(header[len(prefix):])
	if !looksLikeJWT(tok) {
		return auth.Principal{}, auth.ErrNotMine
	}
	path := auth.RequestPath(ctx)
	v, err := s.tokens.check(tok, s.resourceURL(path))
	if err != nil {
		var short *missingScope
		if errors.As(err, &short) {
			return auth.Principal{}, &auth.StepUpError{Challenge: s.stepUpChallenge(path), Reason: short.Error()}
		}
		return auth.Principal{}, err
	}
	return auth.Principal{User: v.user, Provider: "oauth"}, nil
}

// missingScope: a valid token without the scope the endpoint needs.
type missingScope struct{ need string }

func (m *missingScope) Error() string { return "the token does not carry the " + m.need + " scope" }

// check validates tok for resource (the endpoint's resource URL; "" for a
// path that takes no OAuth token).
func (v *validator) check(tok []byte, resource string) (*verified, error) {
	key := sha256.Sum256(tok)
	v.mu.RLock()
	got := v.cache[key]
	v.mu.RUnlock()
	if got == nil {
		var err error
		if got, err = v.verify(string(tok)); err != nil {
			return nil, err
		}
		v.remember(key, got)
	}
	now := v.now()
	switch {
	case !now.Before(got.expiry):
		return nil, fmt.Errorf("%w: the access token expired at %s; refresh it", auth.ErrTokenExpired, got.expiry.UTC().Format(time.RFC3339))
	case now.Before(got.notBefore):
		return nil, fmt.Errorf("%w: the access token is not valid yet", auth.ErrInvalidToken)
	case resource == "":
		return nil, fmt.Errorf("%w: OAuth access tokens are accepted only on the MCP endpoints", auth.ErrInvalidToken)
	case got.audience != resource:
		return nil, fmt.Errorf("%w: the access token was issued for %s, not %s (RFC 8707 audience)", auth.ErrInvalidToken, got.audience, resource)
	}
	v.mu.RLock()
	_, jtiGone := v.revokedJTI[got.jti]
	_, famGone := v.revokedFam[got.family]
	v.mu.RUnlock()
	if jtiGone || (got.family != "" && famGone) {
		return nil, fmt.Errorf("%w: the access token was revoked", auth.ErrTokenRevoked)
	}
	if !slices.Contains(got.scopes, ScopeMCP) {
		return nil, &missingScope{need: ScopeMCP}
	}
	return got, nil
}

// verify checks the signature and the claims that never change.
func (v *validator) verify(tok string) (*verified, error) {
	var c accessClaims
	if err := v.signer.Verify(tok, accessTokenType, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", auth.ErrInvalidToken, err)
	}
	switch {
	case c.Issuer != v.issuer:
		return nil, fmt.Errorf("%w: issuer %q is not this gateway", auth.ErrInvalidToken, c.Issuer)
	case c.Expiry == nil || c.Subject == "" || c.ID == "":
		return nil, fmt.Errorf("%w: the token lacks exp, sub or jti", auth.ErrInvalidToken)
	case len(c.Audience) != 1:
		return nil, fmt.Errorf("%w: the token must name exactly one audience", auth.ErrInvalidToken)
	}
	out := &verified{user: c.Subject, audience: c.Audience[0], jti: c.ID, family: c.Family,
		scopes: strings.Fields(c.Scope), expiry: c.Expiry.Time()}
	if c.NotBefore != nil {
		out.notBefore = c.NotBefore.Time()
	}
	return out, nil
}

// remember caches a verified token, dropping expired entries (and, if
// still full, arbitrary ones) to stay within maxCachedTokens.
func (v *validator) remember(key [sha256.Size]byte, got *verified) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.cache) >= maxCachedTokens {
		now := v.now()
		for k, e := range v.cache {
			if !now.Before(e.expiry) {
				delete(v.cache, k)
			}
		}
		for k := range v.cache {
			if len(v.cache) < maxCachedTokens*9/10 {
				break
			}
			delete(v.cache, k)
		}
		for id, until := range v.revokedJTI {
			if !now.Before(until) {
				delete(v.revokedJTI, id)
			}
		}
	}
	v.cache[key] = got
}

// issueAccess signs an access token for user and client, bound to
// resource, from refresh family fam.
func (s *Server) issueAccess(user, client, resource, scope, fam string) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(s.cfg.AccessTTL)
	c := accessClaims{
		Claims: jwt.Claims{Issuer: s.cfg.Issuer, Subject: user, Audience: jwt.Audience{resource},
			Expiry: jwt.NewNumericDate(exp), NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
			IssuedAt: jwt.NewNumericDate(now), ID: randomToken(16)},
		ClientID: client, Scope: scope, Family: fam,
	}
	tok, err := s.d.Keys.Sign(accessTokenType, c)
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, nil
}
