package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// maxTokenRequest bounds a token or revocation request body.
const maxTokenRequest = 64 << 10

// family is one chain of refresh tokens from one authorization: rotating
// a refresh token stays in the family; reusing one revokes it whole.
type family struct {
	User     string    `json:"user"`
	ClientID string    `json:"client_id"`
	Resource string    `json:"resource"`
	Scope    string    `json:"scope"`
	Expires  time.Time `json:"expires"`
	Revoked  bool      `json:"revoked,omitempty"`
}

// refreshRecord is one refresh token (stored under its digest).
type refreshRecord struct {
	Family string `json:"family"`
	Used   bool   `json:"used,omitempty"`
}

// tokenResponse is RFC 6749 §5.1.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

// token is the token endpoint.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	grant := ""
	var client *Client
	fail := func(e *Error, details map[string]any) {
		if e.cause != nil {
			s.d.Log.Error().Err(e.cause).Msg("oauth: token request failed")
		}
		if details == nil {
			details = map[string]any{}
		}
		details["grant_type"] = grant
		id := r.PostFormValue("client_id")
		if client != nil {
			id = client.ID
		}
		s.audit("oauth.token", "", id, e, details)
		writeError(w, e)
	}
	if err := r.ParseForm(); err != nil {
		fail(oerr(ErrInvalidRequest, "the token request is not a form of at most 64 KiB: "+err.Error()), nil)
		return
	}
	grant = r.PostFormValue("grant_type")
	c, e := s.authenticateClient(r.Context(), r)
	if e != nil {
		fail(e, nil)
		return
	}
	client = c
	if !slices.Contains(c.GrantTypes, grant) && slices.Contains(grantTypes, grant) {
		fail(oerr(ErrUnauthorizedClient, "this client is not registered for the "+grant+" grant"), nil)
		return
	}
	var resp *tokenResponse
	var user string
	switch grant {
	case "authorization_code":
		resp, user, e = s.codeGrant(r.Context(), r, c)
	case "refresh_token":
		resp, user, e = s.refreshGrant(r.Context(), r, c)
	case GrantJWTBearer:
		resp, user, e = s.jwtBearerGrant(r.Context(), r, c)
	case "":
		e = oerr(ErrInvalidRequest, "grant_type is required")
	default:
		e = oerr(ErrUnsupportedGrantType, fmt.Sprintf("grant_type %q is not supported (%s)", grant, strings.Join(grantTypes, ", ")))
	}
	if e != nil {
		fail(e, nil)
		return
	}
	s.audit("oauth.token", user, c.ID, nil, map[string]any{"grant_type": grant, "scope": resp.Scope})
	writeJSON(w, http.StatusOK, resp)
}

// s256 is the PKCE S256 transform of a verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// codeGrant redeems an authorization code (once) with its PKCE verifier.
func (s *Server) codeGrant(ctx context.Context, r *http.Request, c *Client) (*tokenResponse, string, *Error) {
	code, verifier := r.PostFormValue("code"), r.PostFormValue("code_verifier")
	if code == "" {
		return nil, "", oerr(ErrInvalidRequest, "code is required")
	}
	if verifier == "" {
		return nil, "", oerr(ErrInvalidRequest, "code_verifier is required (PKCE)")
	}
	id := digest(code)
	raw, err := s.d.Store.Take(ctx, kindCode, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", s.codeReused(ctx, id)
	}
	if err != nil {
		return nil, "", serverError(err)
	}
	var rec codeRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, "", serverError(err)
	}
	// The code is spent whatever happens next; a second use is reuse.
	used := func(fam string) {
		if err := s.d.Store.Put(ctx, kindCodeUsed, id, []byte(fam), s.cfg.RefreshTTL, false); err != nil {
			s.d.Log.Error().Err(err).Msg("oauth: record a used code")
		}
	}
	switch {
	case !s.now().Before(rec.Expires):
		used("")
		return nil, "", oerr(ErrInvalidGrant, "the code is invalid or expired")
	case rec.ClientID != c.ID:
		used("")
		return nil, "", oerr(ErrInvalidGrant, "the code was issued to another client")
	case r.PostFormValue("redirect_uri") != "" && r.PostFormValue("redirect_uri") != rec.RedirectURI,
		r.PostFormValue("redirect_uri") == "" && len(c.RedirectURIs) != 1:
		used("")
		return nil, "", oerr(ErrInvalidGrant, "redirect_uri does not match the authorization request")
	case !pkceVerifier.MatchString(verifier):
		used("")
		return nil, "", oerr(ErrInvalidGrant, "code_verifier must be 43-128 unreserved characters (RFC 7636)")
	case subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(rec.Challenge)) != 1:
		used("")
		return nil, "", oerr(ErrInvalidGrant, "PKCE verification failed: the code_verifier does not match the code_challenge")
	}
	if res := r.PostForm["resource"]; len(res) > 1 || (len(res) == 1 && res[0] != rec.Resource) {
		used("")
		return nil, "", oerr(ErrInvalidTarget, "resource must be the one the code was issued for: "+rec.Resource)
	}
	famID := randomToken(16)
	fam := family{User: rec.User, ClientID: c.ID, Resource: rec.Resource, Scope: rec.Scope, Expires: s.now().Add(s.cfg.RefreshTTL)}
	resp, e := s.mint(ctx, famID, fam, newFamily|withRefresh)
	if e != nil {
		used("")
		return nil, "", e
	}
	used(famID)
	return resp, rec.User, nil
}

// codeReused: a code not found was either never issued, expired, or
// already redeemed; in the last case the tokens it gave are revoked
// (RFC 6749 §4.1.2: a code used twice may be stolen).
func (s *Server) codeReused(ctx context.Context, id string) *Error {
	fam, err := s.d.Store.Get(ctx, kindCodeUsed, id)
	if err != nil {
		return oerr(ErrInvalidGrant, "the code is invalid or expired")
	}
	if len(fam) > 0 {
		if err := s.revokeFamily(ctx, string(fam)); err != nil {
			return serverError(err)
		}
	}
	return oerr(ErrInvalidGrant, "the code was already used; the tokens issued for it are revoked")
}

// Whether mint stores the family and issues a refresh token.
const (
	newFamily   = 1 << iota // store the family (a new grant)
	withRefresh             // issue a refresh token in it
)

// mint stores the family (newFamily), a fresh refresh token in it
// (withRefresh), and signs an access token.
func (s *Server) mint(ctx context.Context, famID string, fam family, what int) (*tokenResponse, *Error) {
	ttl := fam.Expires.Sub(s.now())
	if ttl <= 0 {
		return nil, oerr(ErrInvalidGrant, "the grant expired; sign in again")
	}
	if what&newFamily != 0 {
		raw, _ := json.Marshal(fam)
		if err := s.d.Store.Put(ctx, kindFamily, famID, raw, ttl, false); err != nil {
			return nil, serverError(err)
		}
	}
	var rt string
	if what&withRefresh != 0 {
		rt = randomToken(32)
		raw, _ := json.Marshal(refreshRecord{Family: famID})
		if err := s.d.Store.Put(ctx, kindRefresh, digest(rt), raw, ttl, false); err != nil {
			return nil, serverError(err)
		}
	}
	at, exp, err := s.issueAccess(fam.User, fam.ClientID, fam.Resource, fam.Scope, famID)
	if err != nil {
		return nil, serverError(err)
	}
	return &tokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(exp.Sub(s.now()).Seconds()),
		RefreshToken: rt, Scope: fam.Scope}, nil
}

// errRefreshReused marks a refresh token presented a second time.
var errRefreshReused = errors.New("refresh token reused")

// refreshGrant rotates a refresh token: the old one is spent, a new one
// of the same family and a new access token are issued. A spent token
// presented again revokes the family.
func (s *Server) refreshGrant(ctx context.Context, r *http.Request, c *Client) (*tokenResponse, string, *Error) {
	rt := r.PostFormValue("refresh_token")
	if rt == "" {
		return nil, "", oerr(ErrInvalidRequest, "refresh_token is required")
	}
	var rec refreshRecord
	err := s.d.Store.Update(ctx, kindRefresh, digest(rt), func(old []byte, found bool) (store.OAuthChange, error) {
		if !found {
			return store.OAuthChange{}, store.ErrNotFound
		}
		if err := json.Unmarshal(old, &rec); err != nil {
			return store.OAuthChange{}, err
		}
		if rec.Used {
			return store.OAuthChange{}, errRefreshReused
		}
		next := rec
		next.Used = true
		raw, _ := json.Marshal(next)
		return store.OAuthChange{Value: raw, TTL: s.cfg.RefreshTTL}, nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, "", oerr(ErrInvalidGrant, "the refresh token is invalid, expired or revoked")
	case errors.Is(err, errRefreshReused):
		if err := s.revokeFamily(ctx, rec.Family); err != nil {
			return nil, "", serverError(err)
		}
		return nil, "", oerr(ErrInvalidGrant, "the refresh token was already used: every token of this grant is revoked; sign in again")
	case err != nil:
		return nil, "", serverError(err)
	}
	fam, e := s.family(ctx, rec.Family)
	if e != nil {
		return nil, "", e
	}
	if fam.ClientID != c.ID {
		return nil, "", oerr(ErrInvalidGrant, "the refresh token was issued to another client")
	}
	if u, err := s.d.Users.User(ctx, fam.User); err != nil || u.Disabled {
		return nil, "", oerr(ErrInvalidGrant, "the user of this grant is disabled or gone")
	}
	if sc := r.PostFormValue("scope"); sc != "" {
		want, e := parseScope(sc)
		if e != nil {
			return nil, "", e
		}
		for _, f := range strings.Fields(want) {
			if !slices.Contains(strings.Fields(fam.Scope), f) {
				return nil, "", oerr(ErrInvalidScope, "scope "+f+" was not granted")
			}
		}
		fam.Scope = want
	}
	if res := r.PostForm["resource"]; len(res) > 1 || (len(res) == 1 && res[0] != fam.Resource) {
		return nil, "", oerr(ErrInvalidTarget, "resource must be the one the grant was issued for: "+fam.Resource)
	}
	resp, e := s.mint(ctx, rec.Family, *fam, withRefresh)
	if e != nil {
		return nil, "", e
	}
	return resp, fam.User, nil
}

func (s *Server) family(ctx context.Context, id string) (*family, *Error) {
	raw, err := s.d.Store.Get(ctx, kindFamily, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oerr(ErrInvalidGrant, "the grant expired or was revoked; sign in again")
	}
	if err != nil {
		return nil, serverError(err)
	}
	var f family
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, serverError(err)
	}
	if f.Revoked {
		return nil, oerr(ErrInvalidGrant, "the grant was revoked; sign in again")
	}
	return &f, nil
}

// revokeFamily revokes a grant: its refresh tokens stop working, and so
// do the access tokens issued from it (the validator's family set).
func (s *Server) revokeFamily(ctx context.Context, id string) error {
	var until time.Time
	err := s.d.Store.Update(ctx, kindFamily, id, func(old []byte, found bool) (store.OAuthChange, error) {
		if !found {
			return store.OAuthChange{Delete: true}, nil
		}
		var f family
		if err := json.Unmarshal(old, &f); err != nil {
			return store.OAuthChange{}, err
		}
		f.Revoked = true
		until = f.Expires
		raw, _ := json.Marshal(f)
		ttl := f.Expires.Sub(s.now())
		if ttl <= 0 {
			return store.OAuthChange{Delete: true}, nil
		}
		return store.OAuthChange{Value: raw, TTL: ttl}, nil
	})
	if err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	if until.IsZero() {
		until = s.now().Add(s.cfg.RefreshTTL)
	}
	if err := s.tokens.revoke(ctx, s.d.Store, "fam", id, until.Add(s.cfg.AccessTTL)); err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	s.audit("oauth.grant.revoke", "", "", nil, map[string]any{"family": id})
	return nil
}
