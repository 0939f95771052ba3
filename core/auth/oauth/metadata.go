package oauth

import (
	"net/http"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

// resourcePath maps a request path to the MCP endpoint path whose
// resource URL (RFC 8707) a token presented there must name: /mcp and
// /mcp/{slug}; the legacy SSE endpoints (/sse, /sse/{slug}, their
// /messages) share the resource of the matching /mcp endpoint. ok is
// false for any other path (the admin API takes no OAuth token).
func resourcePath(path string) (string, bool) {
	var rest string
	switch {
	case path == "/mcp" || path == "/sse" || path == "/sse/messages":
		return "/mcp", true
	case strings.HasPrefix(path, "/mcp/"):
		rest = path[len("/mcp/"):]
	case strings.HasPrefix(path, "/sse/"):
		rest = strings.TrimSuffix(path[len("/sse/"):], "/messages")
	default:
		return "", false
	}
	slug, _, _ := strings.Cut(rest, "/")
	if !connector.ValidSlug(slug) {
		return "", false
	}
	return "/mcp/" + slug, true
}

// resourceURL is the resource identifier of the MCP endpoint at path
// ("" when path is not one).
func (s *Server) resourceURL(path string) string {
	p, ok := resourcePath(path)
	if !ok {
		return ""
	}
	return s.cfg.Issuer + p
}

// validResource reports whether uri names one of the gateway's MCP
// endpoints exactly (no query, fragment or trailing slash).
func (s *Server) validResource(uri string) bool {
	rest, ok := strings.CutPrefix(uri, s.cfg.Issuer)
	if !ok {
		return false
	}
	p, ok := resourcePath(rest)
	return ok && p == rest && strings.HasPrefix(rest, "/mcp")
}

// Challenge is the WWW-Authenticate value of a 401 on path: the RFC 9728
// resource metadata of its endpoint and the scope to ask for.
func (s *Server) Challenge(path string) string {
	p, ok := resourcePath(path)
	if !ok {
		return ""
	}
	return `Bearer resource_metadata="` + s.cfg.Issuer + "/.well-known/oauth-protected-resource" + p + `", scope="` + ScopeMCP + `"`
}

// stepUpChallenge is the WWW-Authenticate value of a 403 for a token
// lacking the scope.
func (s *Server) stepUpChallenge(path string) string {
	p, _ := resourcePath(path)
	return `Bearer error="insufficient_scope", scope="` + ScopeMCP + `", resource_metadata="` +
		s.cfg.Issuer + "/.well-known/oauth-protected-resource" + p + `", error_description="the token lacks the mcp scope"`
}

// protectedResource serves RFC 9728 metadata: at the root for the
// aggregate /mcp endpoint, and path-suffixed for each MCP endpoint.
func (s *Server) protectedResource(w http.ResponseWriter, r *http.Request) {
	suffix := strings.TrimPrefix(r.URL.Path, "/.well-known/oauth-protected-resource")
	if suffix == "" {
		suffix = "/mcp"
	}
	if p, ok := resourcePath(suffix); !ok || p != suffix || !strings.HasPrefix(suffix, "/mcp") {
		writeJSON(w, http.StatusNotFound, oerr(ErrInvalidRequest, "no protected resource at "+suffix+"; MCP endpoints are /mcp and /mcp/{connector}"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"resource":                 s.cfg.Issuer + suffix,
		"authorization_servers":    []string{s.cfg.Issuer},
		"scopes_supported":         supportedScopes,
		"bearer_methods_supported": []string{"header"},
		"resource_name":            "Gatehouse MCP " + strings.TrimPrefix(suffix, "/"),
	})
}

// authorizationServer serves RFC 8414 metadata. There is no OpenID
// discovery alias: the server issues no ID tokens.
func (s *Server) authorizationServer(w http.ResponseWriter, r *http.Request) {
	if rest := r.PathValue("rest"); rest != "" {
		// RFC 8414 §3: an issuer with a path would be here; ours has none.
		writeJSON(w, http.StatusNotFound, oerr(ErrInvalidRequest, "the issuer is "+s.cfg.Issuer))
		return
	}
	i := s.cfg.Issuer
	authMethods := []string{"none", "client_secret_basic", "client_secret_post"}
	doc := map[string]any{
		"issuer":                                         i,
		"authorization_endpoint":                         i + "/oauth/authorize",
		"token_endpoint":                                 i + "/oauth/token",
		"revocation_endpoint":                            i + "/oauth/revoke",
		"jwks_uri":                                       i + "/oauth/jwks",
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          authMethods,
		"revocation_endpoint_auth_methods_supported":     authMethods,
		"scopes_supported":                               supportedScopes,
		"authorization_response_iss_parameter_supported": true,
		"client_id_metadata_document_supported":          true,
	}
	if s.cfg.RegistrationsPerMinute > 0 {
		doc["registration_endpoint"] = i + "/oauth/register"
	}
	if len(s.cfg.EnterpriseIdPs) > 0 {
		doc["grant_types_supported"] = grantTypes
		doc["authorization_grant_profiles_supported"] = []string{grantProfileIDJAG}
	}
	writeJSON(w, http.StatusOK, doc)
}

// jwks publishes the access tokens' public keys.
func (s *Server) jwks(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(s.d.Keys.JWKS())
}
