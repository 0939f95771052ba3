//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// identityUpstream is an MCP server (the official Go SDK's) that trusts
// the gateway's forwarded identity: every request to /jwt must carry an
// identity JWT that verifies with the keys the gateway publishes (fetched
// from its JWKS URL, cached, refetched when a token names an unknown
// key), for the expected issuer and audience; others get 401. /headers
// takes the plain identity headers. Its whoami tool answers who the
// verified identity is.
type identityUpstream struct {
	base, jwksURL, issuer string

	mu       sync.Mutex
	keys     jose.JSONWebKeySet
	fetches  int
	tokens   []string      // the identity JWTs it verified
	headers  []http.Header // every request's headers
	refusals []string
}

type identityClaims struct {
	Email     string   `json:"email"`
	Roles     []string `json:"roles"`
	Connector string   `json:"gatehouse_connector"`
}

func startIdentityUpstream(t *testing.T, gatewayBase string) *identityUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &identityUpstream{base: "http://" + ln.Addr().String(), jwksURL: gatewayBase + "/.well-known/gatehouse/identity-jwks.json", issuer: gatewayBase}
	server := mcp.NewServer(&mcp.Implementation{Name: "identity-upstream", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "whoami", Description: "Says who the forwarded identity is."},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, struct{}, error) {
			h := req.Extra.Header
			var text string
			if tok := h.Get("X-Gatehouse-Identity"); tok != "" {
				sub, kid, c, err := u.verify(tok, u.base+"/jwt")
				if err != nil {
					return nil, struct{}{}, err
				}
				text = strings.Join([]string{sub, c.Email, strings.Join(c.Roles, ","), c.Connector, kid}, "|")
			} else {
				text = strings.Join([]string{h.Get("X-Gatehouse-User"), h.Get("X-Gatehouse-Email"), h.Get("X-Gatehouse-Roles")}, "|")
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, struct{}{}, nil
		})
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	mux := http.NewServeMux()
	mux.Handle("/jwt", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.record(r)
		if _, _, _, err := u.verify(r.Header.Get("X-Gatehouse-Identity"), u.base+"/jwt"); err != nil {
			u.mu.Lock()
			u.refusals = append(u.refusals, err.Error())
			u.mu.Unlock()
			http.Error(w, "identity: "+err.Error(), http.StatusUnauthorized)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	mux.Handle("/headers", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.record(r)
		handler.ServeHTTP(w, r)
	}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return u
}

func (u *identityUpstream) record(r *http.Request) {
	u.mu.Lock()
	u.headers = append(u.headers, r.Header.Clone())
	u.mu.Unlock()
}

// key returns the published key kid, fetching the JWKS when it is not
// cached (as a verifier meeting a rotated key does).
func (u *identityUpstream) key(kid string) (*jose.JSONWebKey, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if ks := u.keys.Key(kid); len(ks) == 1 {
		return &ks[0], nil
	}
	resp, err := http.Get(u.jwksURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	u.fetches++
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/jwk-set+json") {
		return nil, fmt.Errorf("JWKS: HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := json.Unmarshal(raw, &u.keys); err != nil {
		return nil, err
	}
	if ks := u.keys.Key(kid); len(ks) == 1 {
		return &ks[0], nil
	}
	return nil, fmt.Errorf("key %q is not published", kid)
}

// verify checks an identity JWT for audience aud and returns its subject,
// key id and claims.
func (u *identityUpstream) verify(tok, aud string) (string, string, identityClaims, error) {
	var c identityClaims
	if tok == "" {
		return "", "", c, errors.New("no identity JWT")
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return "", "", c, err
	}
	h := parsed.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "gatehouse-identity+jwt" {
		return "", "", c, fmt.Errorf("typ %q", typ)
	}
	k, err := u.key(h.KeyID)
	if err != nil {
		return "", "", c, err
	}
	var std jwt.Claims
	if err := parsed.Claims(k.Key, &std, &c); err != nil {
		return "", "", c, err
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: u.issuer, AnyAudience: jwt.Audience{aud}, Time: time.Now()}, time.Minute); err != nil {
		return "", "", c, err
	}
	u.mu.Lock()
	u.tokens = append(u.tokens, tok)
	u.mu.Unlock()
	return std.Subject, h.KeyID, c, nil
}

func (u *identityUpstream) snapshot() (fetches int, tokens []string, headers []http.Header) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.fetches, append([]string(nil), u.tokens...), append([]http.Header(nil), u.headers...)
}

// TestIdentityForwardJWTAcrossAKeyRotation: a connector with
// advanced.identity_forward jwt sends each request a JWT the upstream
// verifies with the gateway's published JWKS (issuer the gateway,
// audience the connector's URL, subject the user, email and roles); an
// owner rotates the key through the admin API in the middle of an open
// session and the next call verifies with the new key, which the upstream
// fetches from the JWKS, where the old key is still published. Plain
// headers mode sends id, email and roles. The client's token reaches the
// upstream in no header.
func TestIdentityForwardJWTAcrossAKeyRotation(t *testing.T) {
	g := startGateway(t, "")
	var u map[string]any
	if code := g.admin(http.MethodPost, "/users", map[string]any{"id": "alice", "name": "Alice", "email": "alice@example.com", "roles": []string{"admin"}}, &u); code != http.StatusCreated {
		t.Fatalf("create alice: HTTP %d %v", code, u)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if code := g.admin(http.MethodPost, "/tokens", map[string]any{"name": "e2e", "user": "alice"}, &tok); code != http.StatusCreated {
		t.Fatalf("token: HTTP %d", code)
	}
	alice := tok.Token
	up := startIdentityUpstream(t, g.base)
	g.addConnector(map[string]any{"name": "Ident", "slug": "ident", "url": up.base + "/jwt", "auth": map[string]any{"kind": "none"},
		"advanced": map[string]any{"identity_forward": map[string]any{"mode": "jwt"}}})
	g.addConnector(map[string]any{"name": "Plain", "slug": "plain", "url": up.base + "/headers", "auth": map[string]any{"kind": "none"},
		"advanced": map[string]any{"identity_forward": map[string]any{"mode": "headers"}}})

	// Without the gateway's JWT the upstream refuses: its check can fail.
	if resp, err := http.Post(up.base+"/jwt", "application/json", strings.NewReader(`{}`)); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a request without identity: %v %v", resp, err)
	}

	client := mcp.NewClient(&mcp.Implementation{Name: "gatehouse-e2e", Version: "1.0.0"}, nil)
	sess, err := client.Connect(ctxFor(t), &mcp.StreamableClientTransport{Endpoint: g.mcpURL("ident"),
		HTTPClient: &http.Client{Transport: bearerTransport{alice}}}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer sess.Close()
	call := func() []string {
		t.Helper()
		res, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: "whoami"})
		if err != nil || res.IsError {
			t.Fatalf("whoami: %v %+v", err, res)
		}
		return strings.Split(textOf(res), "|")
	}
	first := call()
	if strings.Join(first[:4], "|") != "alice|alice@example.com|admin|ident" {
		t.Fatalf("the upstream verified %q, want alice, her email, her roles and the connector", first)
	}

	var rot struct {
		KID         string `json:"kid"`
		PreviousKID string `json:"previous_kid"`
		JWKSURL     string `json:"jwks_url"`
	}
	if code := g.admin(http.MethodPost, "/identity-forward/keys/rotate", nil, &rot); code != http.StatusOK ||
		rot.PreviousKID != first[4] || rot.KID == first[4] || rot.JWKSURL != up.jwksURL {
		t.Fatalf("rotate: HTTP %d %+v (the first call's key %s)", code, rot, first[4])
	}
	second := call() // the same session
	if strings.Join(second[:4], "|") != "alice|alice@example.com|admin|ident" || second[4] != rot.KID {
		t.Fatalf("after the rotation the upstream verified %q, want alice signed with %s", second, rot.KID)
	}
	fetches, tokens, _ := up.snapshot()
	if fetches < 2 {
		t.Fatalf("the upstream fetched the JWKS %d times, want a refetch for the new key", fetches)
	}
	// The old key is still published (tokens it signed may still live).
	var set jose.JSONWebKeySet
	resp, err := http.Get(up.jwksURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(set.Key(rot.KID)) != 1 || len(set.Key(rot.PreviousKID)) != 1 {
		t.Fatalf("JWKS %d keys: want the new and the previous", len(set.Keys))
	}
	// A token minted for this connector is refused for another audience.
	if _, _, _, err := up.verify(tokens[0], up.base+"/headers"); err == nil {
		t.Fatal("an identity JWT for /jwt verified for another connector's audience")
	}

	plain, err := client.Connect(ctxFor(t), &mcp.StreamableClientTransport{Endpoint: g.mcpURL("plain"),
		HTTPClient: &http.Client{Transport: bearerTransport{alice}}}, nil)
	if err != nil {
		t.Fatalf("connect plain: %v", err)
	}
	defer plain.Close()
	res, err := plain.CallTool(ctxFor(t), &mcp.CallToolParams{Name: "whoami"})
	if err != nil || res.IsError || textOf(res) != "alice|alice@example.com|admin" {
		t.Fatalf("headers mode: %q %v", textOf(res), err)
	}

	_, _, headers := up.snapshot()
	for _, h := range headers {
		for k, vs := range h {
			for _, v := range vs {
				if strings.Contains(v, alice) {
					t.Fatalf("the client's token reached the upstream in %s", k)
				}
			}
		}
		if h.Get("Authorization") != "" {
			t.Fatalf("the upstream got Authorization %q on an auth none connector", h.Get("Authorization"))
		}
	}
}
