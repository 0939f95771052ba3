package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// Enterprise-managed authorization (the MCP extension SEP-990): an MCP
// client signed in to the company's identity provider trades its ID token
// there for an Identity Assertion JWT Authorization Grant (ID-JAG,
// draft-ietf-oauth-identity-assertion-authz-grant) and presents it here
// with the RFC 7523 jwt-bearer grant. The gateway checks it against the
// identity providers an admin trusts and issues an access token bound to
// one MCP endpoint, with no sign-in or consent page and no refresh token
// (the client asks its IdP for a fresh assertion instead).

// GrantJWTBearer is the RFC 7523 grant type.
const GrantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// grantProfileIDJAG is the profile advertised in the metadata's
// authorization_grant_profiles_supported.
const grantProfileIDJAG = "urn:ietf:params:oauth:grant-profile:id-jag"

// idJAGType is the JWT typ header of an ID-JAG.
const idJAGType = "oauth-id-jag+jwt"

// Bounds of an assertion.
const (
	maxAssertionBytes    = 16 << 10
	maxAssertionLifetime = time.Hour
	assertionLeeway      = 30 * time.Second
	// idpKeysTTL is how long an IdP's key set is used before it is
	// fetched again; idpKeysRefetch bounds refetches for an unknown key id.
	idpKeysTTL     = 10 * time.Minute
	idpKeysRefetch = time.Minute
)

// EnterpriseIdP is an identity provider whose ID-JAGs the token endpoint
// accepts.
type EnterpriseIdP struct {
	// Issuer is the IdP's issuer identifier, matched exactly to the
	// assertion's iss.
	Issuer string
	// JWKSURI is the https URL of the IdP's signing keys (fetched through
	// the same SSRF guard, limits and trust as client metadata documents).
	JWKSURI string
	// UserClaim names the claim that is the Gatehouse user id: "sub"
	// (default) or "email". The user must exist and be enabled.
	UserClaim string
	// Clients, when set, are the only client_ids that may present this
	// IdP's assertions.
	Clients []string
}

// idJAGClaims are the claims of an ID-JAG the gateway reads.
type idJAGClaims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
	Resource string `json:"resource,omitempty"`
	Scope    string `json:"scope,omitempty"`
	Email    string `json:"email,omitempty"`
}

// assertionAlgorithms are the signature algorithms accepted on an ID-JAG
// (no "none", no HMAC: the key is the IdP's public one).
var assertionAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

// jwtBearerGrant redeems an ID-JAG for an access token.
func (s *Server) jwtBearerGrant(ctx context.Context, r *http.Request, c *Client) (*tokenResponse, string, *Error) {
	if len(s.cfg.EnterpriseIdPs) == 0 {
		return nil, "", oerr(ErrUnsupportedGrantType, "this gateway trusts no enterprise identity provider (oauth.enterprise_idps), so it takes no jwt-bearer grant")
	}
	assertion := r.PostFormValue("assertion")
	switch {
	case assertion == "":
		return nil, "", oerr(ErrInvalidRequest, "assertion is required (the ID-JAG from your identity provider)")
	case len(assertion) > maxAssertionBytes:
		return nil, "", oerr(ErrInvalidGrant, fmt.Sprintf("the assertion is larger than %d bytes", maxAssertionBytes))
	}
	tok, err := jwt.ParseSigned(assertion, assertionAlgorithms)
	if err != nil {
		return nil, "", oerr(ErrInvalidGrant, "the assertion is not a signed JWT with an asymmetric algorithm: "+err.Error())
	}
	if typ, _ := tok.Headers[0].ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(strings.TrimPrefix(typ, "application/"), idJAGType) {
		return nil, "", oerr(ErrInvalidGrant, fmt.Sprintf("the assertion's typ is %q; an identity assertion grant has typ %q", typ, idJAGType))
	}
	var unverified idJAGClaims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, "", oerr(ErrInvalidGrant, "the assertion's claims do not decode: "+err.Error())
	}
	idp := s.enterpriseIdP(unverified.Issuer)
	if idp == nil {
		return nil, "", oerr(ErrInvalidGrant, fmt.Sprintf("issuer %q is not an enterprise identity provider this gateway trusts", unverified.Issuer))
	}
	claims, e := s.verifyAssertion(ctx, tok, idp)
	if e != nil {
		return nil, "", e
	}
	if claims.ClientID != c.ID {
		return nil, "", oerr(ErrInvalidGrant, fmt.Sprintf("the assertion was issued for client %q, not %q", claims.ClientID, c.ID))
	}
	if len(idp.Clients) > 0 && !slices.Contains(idp.Clients, c.ID) {
		return nil, "", oerr(ErrUnauthorizedClient, fmt.Sprintf("client %q may not present assertions of %s", c.ID, idp.Issuer))
	}
	resource, e := s.assertionResource(r, claims)
	if e != nil {
		return nil, "", e
	}
	scope, e := assertionScope(r.PostFormValue("scope"), claims.Scope)
	if e != nil {
		return nil, "", e
	}
	userID := claims.Subject
	if idp.UserClaim == "email" {
		userID = claims.Email
	}
	if u, err := s.d.Users.User(ctx, userID); err != nil || u.Disabled {
		return nil, "", oerr(ErrInvalidGrant, fmt.Sprintf("no enabled Gatehouse user %q (the assertion's %s): an admin creates the user first", userID, idp.userClaim()))
	}
	if e := s.spendAssertion(ctx, claims); e != nil {
		return nil, "", e
	}
	// No refresh token: the grant (family) lasts as long as the access
	// token, so revoking either works as for the code grant.
	resp, e := s.mint(ctx, randomToken(16), family{User: userID, ClientID: c.ID, Resource: resource, Scope: scope,
		Expires: s.now().Add(s.cfg.AccessTTL)}, newFamily)
	if e != nil {
		return nil, "", e
	}
	return resp, userID, nil
}

// check validates an IdP's settings.
func (idp *EnterpriseIdP) check() error {
	switch {
	case idp.Issuer == "":
		return errors.New("an enterprise identity provider needs an issuer")
	case !strings.HasPrefix(idp.JWKSURI, "https://"):
		return fmt.Errorf("enterprise identity provider %s: jwks_uri must be an https URL, got %q", idp.Issuer, idp.JWKSURI)
	case idp.UserClaim != "" && idp.UserClaim != "sub" && idp.UserClaim != "email":
		return fmt.Errorf("enterprise identity provider %s: user_claim must be sub or email, got %q", idp.Issuer, idp.UserClaim)
	}
	return nil
}

func (idp *EnterpriseIdP) userClaim() string {
	if idp.UserClaim == "" {
		return "sub"
	}
	return idp.UserClaim
}

// enterpriseIdP is the trusted IdP with issuer iss, or nil.
func (s *Server) enterpriseIdP(iss string) *EnterpriseIdP {
	for i := range s.cfg.EnterpriseIdPs {
		if s.cfg.EnterpriseIdPs[i].Issuer == iss {
			return &s.cfg.EnterpriseIdPs[i]
		}
	}
	return nil
}

// verifyAssertion checks the signature against the IdP's published keys
// and the claims that make it an assertion for this gateway, now.
func (s *Server) verifyAssertion(ctx context.Context, tok *jwt.JSONWebToken, idp *EnterpriseIdP) (*idJAGClaims, *Error) {
	kid := tok.Headers[0].KeyID
	keys, err := s.idpKeys.keys(ctx, idp.JWKSURI, kid)
	if err != nil {
		return nil, oerr(ErrInvalidGrant, fmt.Sprintf("the keys of %s could not be fetched from %s: %v", idp.Issuer, idp.JWKSURI, err))
	}
	var claims idJAGClaims
	verified := false
	for _, k := range keys {
		if tok.Claims(k.Key, &claims) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, oerr(ErrInvalidGrant, fmt.Sprintf("the assertion's signature does not verify with the keys %s publishes (key id %q)", idp.Issuer, kid))
	}
	now := s.now()
	switch {
	case claims.Expiry == nil:
		return nil, oerr(ErrInvalidGrant, "the assertion has no exp")
	case claims.Expiry.Time().After(now.Add(maxAssertionLifetime)):
		return nil, oerr(ErrInvalidGrant, fmt.Sprintf("the assertion expires more than %s from now; identity assertion grants are short-lived", maxAssertionLifetime))
	case claims.ID == "":
		return nil, oerr(ErrInvalidGrant, "the assertion has no jti (needed to refuse a replay)")
	case claims.Subject == "":
		return nil, oerr(ErrInvalidGrant, "the assertion has no sub")
	}
	err = claims.ValidateWithLeeway(jwt.Expected{Issuer: idp.Issuer, AnyAudience: jwt.Audience{s.cfg.Issuer}, Time: now}, assertionLeeway)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return nil, oerr(ErrInvalidGrant, "the assertion expired; ask your identity provider for a new one")
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, oerr(ErrInvalidGrant, fmt.Sprintf("the assertion's audience %v is not this authorization server (%s)", []string(claims.Audience), s.cfg.Issuer))
	case err != nil:
		return nil, oerr(ErrInvalidGrant, "the assertion is not valid now: "+err.Error())
	}
	return &claims, nil
}

// assertionResource is the MCP endpoint the token is bound to: the
// assertion's resource claim, or the request's resource parameter; when
// both are given they must agree.
func (s *Server) assertionResource(r *http.Request, claims *idJAGClaims) (string, *Error) {
	res := r.PostForm["resource"]
	if len(res) > 1 {
		return "", oerr(ErrInvalidTarget, "one resource per token request")
	}
	resource := claims.Resource
	switch {
	case resource == "" && len(res) == 0:
		return "", oerr(ErrInvalidTarget, "neither the assertion nor the request names a resource (an MCP endpoint of this gateway)")
	case resource == "":
		resource = res[0]
	case len(res) == 1 && res[0] != resource:
		return "", oerr(ErrInvalidTarget, fmt.Sprintf("the request's resource %q differs from the assertion's %q", res[0], resource))
	}
	if !s.validResource(resource) {
		return "", oerr(ErrInvalidTarget, fmt.Sprintf("resource %q is not an MCP endpoint of this gateway", resource))
	}
	return resource, nil
}

// assertionScope is the scope granted: the scopes the assertion carries
// that this gateway knows, narrowed to the requested ones when the
// request names any (SEP-990 §7.2.1). An assertion without a scope
// claim grants the default scope.
func assertionScope(requested, asserted string) (string, *Error) {
	granted := strings.Fields(asserted)
	if len(granted) == 0 {
		granted = []string{ScopeMCP}
	}
	granted = slices.DeleteFunc(granted, func(f string) bool { return !slices.Contains(supportedScopes, f) })
	if want := strings.Fields(requested); len(want) > 0 {
		granted = slices.DeleteFunc(granted, func(f string) bool { return !slices.Contains(want, f) })
	}
	if len(granted) == 0 {
		return "", oerr(ErrInvalidScope, fmt.Sprintf("no scope both requested (%q) and granted by the assertion (%q) is supported here (%s)",
			requested, asserted, strings.Join(supportedScopes, " ")))
	}
	slices.Sort(granted)
	return strings.Join(slices.Compact(granted), " "), nil
}

// spendAssertion records the assertion's jti until it expires; a second
// presentation is refused.
func (s *Server) spendAssertion(ctx context.Context, claims *idJAGClaims) *Error {
	ttl := claims.Expiry.Time().Add(assertionLeeway).Sub(s.now())
	replayed := errors.New("replayed")
	err := s.d.Store.Update(ctx, kindAssertion, digest(claims.Issuer+"\x00"+claims.ID), func(_ []byte, found bool) (store.OAuthChange, error) {
		if found {
			return store.OAuthChange{}, replayed
		}
		return store.OAuthChange{Value: []byte{1}, TTL: max(ttl, time.Second)}, nil
	})
	switch {
	case errors.Is(err, replayed):
		return oerr(ErrInvalidGrant, "the assertion was already used (jti "+claims.ID+"); ask your identity provider for a new one")
	case err != nil:
		return serverError(err)
	}
	return nil
}

// idpKeyCache keeps the key sets of the trusted IdPs: fetched on first
// use and again after idpKeysTTL; an assertion naming a key id the set
// lacks (as after a rotation) fetches it early, at most once per
// idpKeysRefetch per set so forged key ids cannot make the gateway fetch
// on every request. A set that cannot be refreshed is used until a fetch
// succeeds.
type idpKeyCache struct {
	fetch DocumentFetcher
	now   func() time.Time

	mu   sync.Mutex
	sets map[string]*cachedKeys
}

type cachedKeys struct {
	set     jose.JSONWebKeySet
	fetched time.Time
	// missed is when an unknown key id last caused a fetch.
	missed time.Time
}

func newIDPKeyCache(fetch DocumentFetcher, now func() time.Time) *idpKeyCache {
	return &idpKeyCache{fetch: fetch, now: now, sets: map[string]*cachedKeys{}}
}

// keys returns the keys of the set at uri that may have signed a token
// with kid (every key when kid is empty).
func (k *idpKeyCache) keys(ctx context.Context, uri, kid string) ([]jose.JSONWebKey, error) {
	now := k.now()
	k.mu.Lock()
	c := k.sets[uri]
	miss := c != nil && kid != "" && len(c.set.Key(kid)) == 0 && now.Sub(c.missed) >= idpKeysRefetch
	if miss {
		c.missed = now
	}
	k.mu.Unlock()
	if c == nil || miss || now.Sub(c.fetched) >= idpKeysTTL {
		fresh, err := k.load(ctx, uri, c)
		switch {
		case err == nil:
			c = fresh
		case c == nil:
			return nil, err
		}
	}
	if kid == "" {
		return c.set.Keys, nil
	}
	return c.set.Key(kid), nil
}

func (k *idpKeyCache) load(ctx context.Context, uri string, old *cachedKeys) (*cachedKeys, error) {
	if k.fetch == nil {
		return nil, errors.New("no key fetcher is configured")
	}
	body, err := k.fetch.Fetch(ctx, uri)
	if err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	set.Keys = slices.DeleteFunc(set.Keys, func(j jose.JSONWebKey) bool { return !j.Valid() || !j.IsPublic() })
	if len(set.Keys) == 0 {
		return nil, errors.New("the key set has no public key")
	}
	c := &cachedKeys{set: set, fetched: k.now()}
	if old != nil {
		c.missed = old.missed
	}
	k.mu.Lock()
	k.sets[uri] = c
	k.mu.Unlock()
	return c, nil
}
