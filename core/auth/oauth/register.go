package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/gatehouse-mcp/gatehouse/core/auth/redirect"
)

// rateLimit bounds registrations (golang.org/x/time/rate's token bucket).
type rateLimit struct{ l *rate.Limiter }

func newRateLimit(perMinute int, _ func() time.Time) *rateLimit {
	if perMinute <= 0 {
		return &rateLimit{l: rate.NewLimiter(0, 0)}
	}
	return &rateLimit{l: rate.NewLimiter(rate.Every(time.Minute/time.Duration(perMinute)), perMinute)}
}

func (r *rateLimit) allow() bool { return r.l.Allow() }

// maxClientName bounds the client_name shown on the consent page.
const maxClientName = 200

// maxRedirectURIs bounds a registration's redirect URIs.
const maxRedirectURIs = 20

// grantTypes are the grants the token endpoint knows.
var grantTypes = []string{"authorization_code", "refresh_token", GrantJWTBearer}

// checkGrantTypes defaults and checks grant and response types.
func checkGrantTypes(c *Client) *Error {
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(grantTypes, g) {
			return oerr(ErrInvalidClientMetadata, fmt.Sprintf("grant type %q is not supported (%s)", g, strings.Join(grantTypes, ", ")))
		}
	}
	if len(c.ResponseTypes) == 0 {
		c.ResponseTypes = []string{"code"}
	}
	for _, rt := range c.ResponseTypes {
		if rt != "code" {
			return oerr(ErrInvalidClientMetadata, fmt.Sprintf("response type %q is not supported (code)", rt))
		}
	}
	return nil
}

// checkMetadata checks a client's metadata for registration (DCR or the
// admin API) and decides each redirect URI through the redirect rules:
// a blocked one refuses the registration.
func (s *Server) checkMetadata(ctx context.Context, c *Client, source, actor string) *Error {
	if e := checkGrantTypes(c); e != nil {
		return e
	}
	if len(c.RedirectURIs) == 0 && slices.Contains(c.GrantTypes, "authorization_code") {
		return oerr(ErrInvalidRedirectURI, "redirect_uris is required for the authorization_code grant")
	}
	if len(c.RedirectURIs) > maxRedirectURIs {
		return oerr(ErrInvalidRedirectURI, fmt.Sprintf("at most %d redirect_uris", maxRedirectURIs))
	}
	if len(c.Name) > maxClientName {
		return oerr(ErrInvalidClientMetadata, fmt.Sprintf("client_name is longer than %d bytes", maxClientName))
	}
	switch c.ApplicationType {
	case "":
		c.ApplicationType = "web"
	case "web", "native":
	default:
		return oerr(ErrInvalidClientMetadata, fmt.Sprintf("application_type %q: use web or native", c.ApplicationType))
	}
	switch c.TokenEndpointAuthMethod {
	case "":
		c.TokenEndpointAuthMethod = "client_secret_basic" // RFC 7591 §2
	case "none", "client_secret_basic", "client_secret_post":
	default:
		return oerr(ErrInvalidClientMetadata, fmt.Sprintf("token_endpoint_auth_method %q: use none, client_secret_basic or client_secret_post", c.TokenEndpointAuthMethod))
	}
	if _, e := parseScope(c.Scope); e != nil {
		return oerr(ErrInvalidClientMetadata, e.Description)
	}
	for _, r := range c.RedirectURIs {
		if err := checkRedirectSyntax(r, c.ApplicationType); err != nil {
			return oerr(ErrInvalidRedirectURI, err.Error())
		}
		d, err := s.decideRedirect(ctx, redirect.Request{URI: r, ClientName: c.Name, User: actor, Source: source})
		if err != nil {
			return serverError(err)
		}
		if d.Outcome == redirect.Blocked {
			return oerr(ErrInvalidRedirectURI, fmt.Sprintf("redirect URI %q is blocked for your organization: %s", r, d.Reason))
		}
	}
	return nil
}

// register is RFC 7591 dynamic client registration.
func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	fail := func(e *Error, details map[string]any) {
		s.audit("oauth.register", "", "", e, details)
		writeError(w, e)
	}
	if s.cfg.RegistrationsPerMinute < 0 {
		fail(&Error{Code: ErrInvalidRequest, Description: "dynamic client registration is disabled; use a client ID metadata document or ask an admin", Status: http.StatusForbidden}, nil)
		return
	}
	ip := clientIP(r)
	if over, until := s.ipRegs.blocked(ip); over {
		w.Header().Set("Retry-After", fmt.Sprint(int(until.Sub(s.now()).Seconds())+1))
		fail(&Error{Code: ErrTemporarilyUnavailable, Description: "too many client registrations from your address; retry after " + until.UTC().Format(time.RFC3339),
			Status: http.StatusTooManyRequests}, map[string]any{"client_ip": ip})
		return
	}
	s.ipRegs.add(ip)
	if !s.regRate.allow() {
		w.Header().Set("Retry-After", "60")
		fail(&Error{Code: ErrTemporarilyUnavailable, Description: "too many client registrations; retry in a minute", Status: http.StatusTooManyRequests}, nil)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(s.cfg.RegistrationMaxBytes)+1))
	if err != nil {
		fail(oerr(ErrInvalidClientMetadata, "read the registration: "+err.Error()), nil)
		return
	}
	if len(body) > s.cfg.RegistrationMaxBytes {
		fail(&Error{Code: ErrInvalidClientMetadata, Description: fmt.Sprintf("the registration exceeds %d bytes", s.cfg.RegistrationMaxBytes),
			Status: http.StatusRequestEntityTooLarge}, map[string]any{"bytes_over": true})
		return
	}
	var c Client
	if err := json.Unmarshal(body, &c); err != nil {
		fail(oerr(ErrInvalidClientMetadata, "the registration is not a JSON object of client metadata: "+err.Error()), nil)
		return
	}
	c.ID, c.SecretDigest = "", ""
	if e := s.checkMetadata(r.Context(), &c, SourceDCR, ""); e != nil {
		fail(e, map[string]any{"client_name": c.Name, "redirect_uris": c.RedirectURIs})
		return
	}
	out, secret, err := s.saveClient(r.Context(), c, SourceDCR)
	if err != nil {
		fail(asOAuth(err), nil)
		return
	}
	s.audit("oauth.register", "", out.ID, nil, map[string]any{"client_name": out.Name, "redirect_uris": out.RedirectURIs,
		"application_type": out.ApplicationType, "auth_method": out.TokenEndpointAuthMethod})
	writeJSON(w, http.StatusCreated, registrationResponse(out, secret))
}

// saveClient assigns an id (and a secret for a confidential client) and
// stores c.
func (s *Server) saveClient(ctx context.Context, c Client, source string) (*Client, string, error) {
	prefix := "dcr_"
	if source == SourceAdmin {
		prefix = "gh_"
	}
	c.ID = prefix + randomToken(16)
	c.Source = source
	c.CreatedAt = s.now().UTC()
	secret := ""
	if !c.public() {
		secret = randomToken(32)
		c.SecretDigest = digest(secret)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, "", err
	}
	if err := s.d.Store.Put(ctx, kindClient, c.ID, raw, 0, false); err != nil {
		return nil, "", err
	}
	return &c, secret, nil
}

func registrationResponse(c *Client, secret string) map[string]any {
	out := map[string]any{
		"client_id":                  c.ID,
		"client_id_issued_at":        c.CreatedAt.Unix(),
		"client_name":                c.Name,
		"redirect_uris":              c.RedirectURIs,
		"grant_types":                c.GrantTypes,
		"response_types":             c.ResponseTypes,
		"token_endpoint_auth_method": c.TokenEndpointAuthMethod,
		"application_type":           c.ApplicationType,
	}
	if c.Scope != "" {
		out["scope"] = c.Scope
	}
	if secret != "" {
		out["client_secret"] = secret
		out["client_secret_expires_at"] = 0
	}
	return out
}

// ClientSpec is a pre-registered client as the admin API creates it.
type ClientSpec struct {
	Name         string   `json:"client_name"`
	RedirectURIs []string `json:"redirect_uris"`
	// Confidential clients get a secret (shown once); public ones
	// authenticate with their client_id and PKCE alone.
	Confidential    bool   `json:"confidential"`
	ApplicationType string `json:"application_type,omitempty"`
	Scope           string `json:"scope,omitempty"`
	// GrantTypes default to authorization_code and refresh_token; a
	// client of enterprise-managed authorization lists
	// urn:ietf:params:oauth:grant-type:jwt-bearer (and may then have no
	// redirect URIs).
	GrantTypes []string `json:"grant_types,omitempty"`
}

// ErrBadClient wraps a refused admin client registration.
var ErrBadClient = errors.New("invalid client")

// CreateClient registers a client through the admin API; it returns the
// client and, for a confidential one, its secret (never stored).
func (s *Server) CreateClient(ctx context.Context, actor string, spec ClientSpec) (*Client, string, error) {
	c := Client{Name: spec.Name, RedirectURIs: spec.RedirectURIs, ApplicationType: spec.ApplicationType, Scope: spec.Scope,
		GrantTypes: spec.GrantTypes, TokenEndpointAuthMethod: "none"}
	if spec.Confidential {
		c.TokenEndpointAuthMethod = "client_secret_basic"
	}
	if e := s.checkMetadata(ctx, &c, SourceAdmin, actor); e != nil {
		if e.Code == ErrServerError {
			return nil, "", e
		}
		return nil, "", fmt.Errorf("%w: %s", ErrBadClient, e.Description)
	}
	out, secret, err := s.saveClient(ctx, c, SourceAdmin)
	if err != nil {
		return nil, "", err
	}
	return out, secret, nil
}

// Clients lists the registered clients (DCR and admin), by id.
func (s *Server) Clients(ctx context.Context) ([]*Client, error) {
	all, err := s.d.Store.List(ctx, kindClient)
	if err != nil {
		return nil, err
	}
	out := make([]*Client, 0, len(all))
	for id, raw := range all {
		var c Client
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("decode client %s: %w", id, err)
		}
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *Client) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// DeleteClient removes a registered client; its refresh tokens stop
// working at their next use (the client is no longer found).
func (s *Server) DeleteClient(ctx context.Context, id string) error {
	if _, e := s.client(ctx, id); e != nil || isCIMD(id) {
		return fmt.Errorf("client %q: %w", id, errNoClient)
	}
	if err := s.d.Store.Delete(ctx, kindClient, id); err != nil {
		return err
	}
	return nil
}

// errNoClient: no registered client with that id.
var errNoClient = errors.New("no such client")

// IsNoClient reports whether err says the client does not exist.
func IsNoClient(err error) bool { return errors.Is(err, errNoClient) }
