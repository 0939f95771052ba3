package upstreamauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// probeBody is the request the probe sends: a legacy initialize, which
// every MCP server of either era answers (or refuses with 401).
const probeBody = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"gatehouse-probe","version":"1"}}}`

// challenge is what an upstream's 401 said (RFC 6750 §3, RFC 9728 §5.1).
type challenge struct {
	// OAuth is set when the upstream answered 401 (or 403
	// insufficient_scope) with a Bearer challenge.
	OAuth            bool
	ResourceMetadata string
	Scopes           []string
}

// probe sends an unauthenticated request to the upstream. A 401 with a
// Bearer challenge means the upstream wants OAuth; any other answer means
// it does not. A network failure is an error (nothing is learnt).
func (s *Service) probe(ctx context.Context, mcpURL string) (challenge, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, mcpURL, strings.NewReader(probeBody))
	if err != nil {
		return challenge{}, fmt.Errorf("probe %s: %w", mcpURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := s.http.Do(req)
	if err != nil {
		return challenge{}, fmt.Errorf("probe %s: %w", mcpURL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusUnauthorized {
		return challenge{}, nil
	}
	return parseChallenge(resp.Header.Values("WWW-Authenticate")), nil
}

// parseChallenge reads the Bearer challenge of a 401. A malformed header
// still means OAuth (the upstream said 401), with nothing learnt from it.
func parseChallenge(headers []string) challenge {
	ch := challenge{OAuth: true}
	cs, err := oauthex.ParseWWWAuthenticate(headers)
	if err != nil {
		return ch
	}
	for _, c := range cs {
		if c.Scheme != "bearer" {
			continue
		}
		if u := c.Params["resource_metadata"]; u != "" && ch.ResourceMetadata == "" {
			ch.ResourceMetadata = u
		}
		if sc := c.Params["scope"]; sc != "" && ch.Scopes == nil {
			ch.Scopes = strings.Fields(sc)
		}
	}
	return ch
}

// discovery is what the connect flow needs to know of an upstream.
type discovery struct {
	Resource string
	AS       *oauthex.AuthServerMeta
	Scopes   []string
}

// ErrNoAuthServer: the upstream's resource metadata names no
// authorization server.
var ErrNoAuthServer = errors.New("the upstream names no authorization server")

// discover finds the upstream's authorization server: RFC 9728 protected
// resource metadata (the challenge's URL, then the path-suffixed and root
// well-known URLs), then RFC 8414 (or OpenID) metadata of its first
// authorization server. Servers of the 2025-03-26 era without metadata get
// that era's fallbacks (the MCP URL's origin and its /authorize, /token
// and /register).
func (s *Service) discover(ctx context.Context, mcpURL string, ch challenge) (*discovery, error) {
	prm, err := s.resourceMetadata(ctx, mcpURL, ch.ResourceMetadata)
	if err != nil {
		return nil, err
	}
	issuer := prm.AuthorizationServers[0]
	asm, err := sdkauth.GetAuthServerMetadata(ctx, issuer, s.http)
	if err != nil {
		return nil, fmt.Errorf("authorization server metadata of %s: %w", issuer, err)
	}
	if asm == nil {
		base := strings.TrimRight(issuer, "/")
		asm = &oauthex.AuthServerMeta{
			Issuer:                issuer,
			AuthorizationEndpoint: base + "/authorize",
			TokenEndpoint:         base + "/token",
			RegistrationEndpoint:  base + "/register",
		}
	}
	scopes := ch.Scopes
	if len(scopes) == 0 {
		scopes = prm.ScopesSupported
	}
	return &discovery{Resource: prm.Resource, AS: asm, Scopes: scopes}, nil
}

func (s *Service) resourceMetadata(ctx context.Context, mcpURL, fromChallenge string) (*oauthex.ProtectedResourceMetadata, error) {
	for _, c := range metadataURLs(fromChallenge, mcpURL) {
		prm, err := oauthex.GetProtectedResourceMetadata(ctx, c.url, c.resource, s.http)
		if err != nil || prm == nil {
			continue
		}
		if len(prm.AuthorizationServers) == 0 {
			return nil, fmt.Errorf("%w (resource metadata at %s)", ErrNoAuthServer, c.url)
		}
		return prm, nil
	}
	u, err := url.Parse(mcpURL)
	if err != nil {
		return nil, fmt.Errorf("connector URL: %w", err)
	}
	u.Path, u.RawQuery, u.Fragment = "", "", ""
	return &oauthex.ProtectedResourceMetadata{Resource: mcpURL, AuthorizationServers: []string{u.String()}}, nil
}

type metadataURL struct{ url, resource string }

// metadataURLs are where RFC 9728 metadata may be, in the order the MCP
// authorization spec gives, each with the resource it must name.
func metadataURLs(fromChallenge, mcpURL string) []metadataURL {
	var out []metadataURL
	if fromChallenge != "" {
		out = append(out, metadataURL{fromChallenge, mcpURL})
	}
	u, err := url.Parse(mcpURL)
	if err != nil {
		return out
	}
	m := *u
	m.RawQuery, m.Fragment = "", ""
	if p := strings.TrimLeft(u.Path, "/"); p != "" {
		m.Path = "/.well-known/oauth-protected-resource/" + p
		out = append(out, metadataURL{m.String(), mcpURL})
	}
	m.Path = "/.well-known/oauth-protected-resource"
	root := *u
	root.Path, root.RawQuery, root.Fragment = "", "", ""
	out = append(out, metadataURL{m.String(), root.String()})
	return out
}

// formPost posts an application/x-www-form-urlencoded body (revocation).
func (s *Service) formPost(ctx context.Context, endpoint string, form url.Values, clientID, secret, method string) (int, error) {
	if method != "client_secret_basic" || secret == "" {
		form.Set("client_id", clientID)
		if secret != "" {
			form.Set("client_secret", secret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader([]byte(form.Encode())))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if method == "client_secret_basic" && secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
