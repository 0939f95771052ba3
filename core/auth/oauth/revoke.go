package oauth

import (
	"encoding/json"
	"net/http"
	"time"
)

// revoke is RFC 7009 token revocation: a refresh token revokes its whole
// grant, an access token itself. Unknown or foreign tokens are answered
// 200 too (§2.2), so the endpoint tells nothing about them.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		writeError(w, oerr(ErrInvalidRequest, "the revocation request is not a form of at most 64 KiB"))
		return
	}
	c, e := s.authenticateClient(ctx, r)
	if e != nil {
		s.audit("oauth.revoke", "", r.PostFormValue("client_id"), e, nil)
		writeError(w, e)
		return
	}
	tok := r.PostFormValue("token")
	if tok == "" {
		writeError(w, oerr(ErrInvalidRequest, "token is required"))
		return
	}
	kind := "unknown"
	if looksLikeJWT([]byte(tok)) {
		var cl accessClaims
		if err := s.d.Keys.Verify(tok, accessTokenType, &cl); err == nil && cl.ClientID == c.ID && cl.Issuer == s.cfg.Issuer && cl.Expiry != nil {
			if err := s.tokens.revoke(ctx, s.d.Store, "jti", cl.ID, cl.Expiry.Time()); err != nil {
				writeError(w, serverError(err))
				return
			}
			kind = "access_token"
		}
	} else if raw, err := s.d.Store.Get(ctx, kindRefresh, digest(tok)); err == nil {
		var rec refreshRecord
		if json.Unmarshal(raw, &rec) == nil {
			if f, e := s.family(ctx, rec.Family); e == nil && f.ClientID == c.ID {
				if err := s.revokeFamily(ctx, rec.Family); err != nil {
					writeError(w, serverError(err))
					return
				}
				kind = "refresh_token"
			}
		}
	}
	s.audit("oauth.revoke", "", c.ID, nil, map[string]any{"token_type": kind, "at": s.now().UTC().Format(time.RFC3339)})
	w.WriteHeader(http.StatusOK)
}
