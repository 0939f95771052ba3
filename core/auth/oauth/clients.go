package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// Client sources.
const (
	SourceDCR   = "dcr"
	SourceCIMD  = "cimd"
	SourceAdmin = "admin"
)

// Client is a registered OAuth client (RFC 7591 metadata names).
type Client struct {
	ID                      string   `json:"client_id"`
	Name                    string   `json:"client_name,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	ApplicationType         string   `json:"application_type,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	// SecretDigest is the hex SHA-256 of a confidential client's secret
	// (a random 256-bit value, so a fast hash is right, as for API tokens).
	SecretDigest string    `json:"secret_digest,omitempty"`
	Source       string    `json:"source,omitempty"`
	CreatedAt    time.Time `json:"created_at,omitzero"`
}

// public reports whether the client authenticates with no secret.
func (c *Client) public() bool { return c.TokenEndpointAuthMethod == "none" }

// randomToken is n random bytes, base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// digest is the hex SHA-256 of a random credential (codes, refresh
// tokens, client secrets): what the store keeps instead of it.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// isCIMD reports whether a client_id is a Client ID Metadata Document URL.
func isCIMD(id string) bool { return strings.HasPrefix(id, "https://") }

// client finds a client by id: a CIMD URL is fetched (cached), any other
// id is looked up among the registered ones.
func (s *Server) client(ctx context.Context, id string) (*Client, *Error) {
	if id == "" {
		return nil, oerr(ErrInvalidRequest, "client_id is required")
	}
	if isCIMD(id) {
		return s.cimdClient(ctx, id)
	}
	raw, err := s.d.Store.Get(ctx, kindClient, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oerr(ErrInvalidClient, fmt.Sprintf("client %q is not registered: register it (POST /oauth/register), use a client ID metadata document URL, or ask an admin", id))
	}
	if err != nil {
		return nil, serverError(err)
	}
	var c Client
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, serverError(fmt.Errorf("decode client %s: %w", id, err))
	}
	return &c, nil
}

// authenticateClient identifies the client at the token and revocation
// endpoints: HTTP Basic, client_secret in the form, or a public client's
// client_id alone.
func (s *Server) authenticateClient(ctx context.Context, r *http.Request) (*Client, *Error) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id) // RFC 6749 §2.3.1: form-encoded first
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, oerr(ErrInvalidClient, "malformed HTTP Basic client credentials")
		}
		if f := r.PostFormValue("client_id"); f != "" && f != id {
			return nil, oerr(ErrInvalidRequest, "client_id in the form differs from the one in the Authorization header")
		}
	} else {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id == "" {
		return nil, oerr(ErrInvalidClient, "client authentication is required: send client_id (public clients) or client credentials")
	}
	c, e := s.client(ctx, id)
	if e != nil {
		if e.Code == ErrInvalidRequest {
			e = oerr(ErrInvalidClient, e.Description)
		}
		return nil, e
	}
	if c.public() {
		if secret != "" {
			return nil, oerr(ErrInvalidClient, "this client is public (token_endpoint_auth_method none) and has no secret")
		}
		return c, nil
	}
	if secret == "" || c.SecretDigest == "" ||
		subtle.ConstantTimeCompare([]byte(digest(secret)), []byte(c.SecretDigest)) != 1 {
		return nil, oerr(ErrInvalidClient, "client authentication failed")
	}
	return c, nil
}

// redirectRegistered reports whether uri is one of the client's redirect
// URIs: exactly, or for a loopback http URI with any port (RFC 8252 §7.3,
// OAuth 2.1 §8.4.2: native apps get an ephemeral port).
func (c *Client) redirectRegistered(uri string) bool {
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || !isLoopback(u.Hostname()) {
		return false
	}
	for _, reg := range c.RedirectURIs {
		r, err := url.Parse(reg)
		if err != nil || r.Scheme != "http" || !isLoopback(r.Hostname()) {
			continue
		}
		if r.Hostname() == u.Hostname() && r.EscapedPath() == u.EscapedPath() && r.RawQuery == u.RawQuery &&
			r.User == nil && u.User == nil && u.Fragment == "" {
			return true
		}
	}
	return false
}

// isLoopback: the loopback literals and localhost.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkRedirectSyntax is the client-independent check of a registered
// redirect URI: absolute, no fragment or userinfo, https, http only on
// loopback, and a private-use scheme (with a dot, RFC 8252 §7.1) only for
// native applications. Everything else the redirect rules decide.
func checkRedirectSyntax(uri, appType string) error {
	u, err := url.Parse(uri)
	switch {
	case err != nil:
		return fmt.Errorf("redirect URI %q does not parse: %w", uri, err)
	case !u.IsAbs():
		return fmt.Errorf("redirect URI %q is not absolute", uri)
	case u.Fragment != "" || strings.Contains(uri, "#"):
		return fmt.Errorf("redirect URI %q has a fragment", uri)
	case u.User != nil:
		return fmt.Errorf("redirect URI %q has userinfo", uri)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return fmt.Errorf("redirect URI %q has no host", uri)
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("redirect URI %q uses http on a non-loopback host; use https", uri)
		}
	default:
		if appType != "native" || !strings.Contains(u.Scheme, ".") {
			return fmt.Errorf("redirect URI %q: custom schemes are for native applications (application_type native) and must be reverse-domain names such as com.example.app", uri)
		}
	}
	return nil
}

// localhostOnly reports whether every redirect URI of c is on loopback:
// the consent page warns that any local program could be the client.
func (c *Client) localhostOnly() bool {
	if len(c.RedirectURIs) == 0 {
		return false
	}
	for _, r := range c.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil || !isLoopback(u.Hostname()) {
			return false
		}
	}
	return true
}
