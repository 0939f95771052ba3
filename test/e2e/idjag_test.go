//go:build e2e

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

// enterpriseIdP is a test enterprise identity provider: RFC 8414
// metadata, an RFC 8693 token endpoint that trades a known ID token for an
// ID-JAG, and its public keys.
type enterpriseIdP struct {
	t   *testing.T
	srv *httptest.Server
	key jose.JSONWebKey

	mu        sync.Mutex
	gwClient  string            // the Gatehouse client_id the IdP puts in its ID-JAGs
	users     map[string]string // ID token → user
	exchanges []map[string]string
}

func newEnterpriseIdP(t *testing.T) *enterpriseIdP {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	idp := &enterpriseIdP{t: t, key: jose.JSONWebKey{Key: k, KeyID: "idp-key-1", Algorithm: string(jose.ES256), Use: "sig"},
		users: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": idp.srv.URL, "token_endpoint": idp.srv.URL + "/token", "authorization_endpoint": idp.srv.URL + "/authorize",
			"response_types_supported": []string{"code"}, "code_challenge_methods_supported": []string{"S256"}, "grant_types_supported": []string{"urn:ietf:params:oauth:grant-type:token-exchange"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{idp.key.Public()}})
	})
	mux.HandleFunc("POST /token", idp.exchange)
	idp.srv = httptest.NewTLSServer(mux)
	t.Cleanup(idp.srv.Close)
	return idp
}

// exchange is RFC 8693 token exchange for an ID-JAG.
func (idp *enterpriseIdP) exchange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form := map[string]string{}
	for k := range r.PostForm {
		form[k] = r.PostFormValue(k)
	}
	idp.mu.Lock()
	idp.exchanges = append(idp.exchanges, form)
	user, known := idp.users[form["subject_token"]]
	gwClient := idp.gwClient
	idp.mu.Unlock()
	fail := func(code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
	}
	switch {
	case form["grant_type"] != "urn:ietf:params:oauth:grant-type:token-exchange",
		form["requested_token_type"] != "urn:ietf:params:oauth:token-type:id-jag",
		form["subject_token_type"] != "urn:ietf:params:oauth:token-type:id_token":
		fail("invalid_request")
		return
	case !known:
		fail("invalid_grant")
		return
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: idp.key},
		(&jose.SignerOptions{}).WithType("oauth-id-jag+jwt").WithHeader("kid", idp.key.KeyID))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	now := time.Now()
	jti := make([]byte, 8)
	_, _ = rand.Read(jti)
	tok, err := jwt.Signed(signer).Claims(map[string]any{"iss": idp.srv.URL, "sub": user, "aud": form["audience"],
		"client_id": gwClient, "resource": form["resource"], "scope": "mcp", "jti": base64.RawURLEncoding.EncodeToString(jti),
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}).Serialize()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"issued_token_type": "urn:ietf:params:oauth:token-type:id-jag",
		"access_token": tok, "token_type": "N_A", "scope": "mcp", "expires_in": 300})
}

// caFile writes the IdP's certificate for the gateway and node to trust.
func (idp *enterpriseIdP) caFile(dir string) string {
	ca := filepath.Join(dir, "idp-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.srv.Certificate().Raw}), 0o600); err != nil {
		idp.t.Fatal(err)
	}
	return ca
}

// tsIDJAG is what test/e2e/node/idjag.mjs prints.
type tsIDJAG struct {
	OK     bool   `json:"ok"`
	Error  string `json:"error"`
	Result struct {
		Audience string `json:"audience"`
		Resource string `json:"resource"`
		tsTokens
	} `json:"result"`
}

func runTSIDJAG(t *testing.T, ca string, args ...string) tsIDJAG {
	t.Helper()
	var o tsIDJAG
	_, _ = runNodeJSON(t, "idjag.mjs", []string{"NODE_EXTRA_CA_CERTS=" + ca}, &o, args...)
	return o
}

// TestEnterpriseManagedAuthorizationWithTheTypeScriptSDK: the SDK's
// CrossAppAccessProvider gets an ID-JAG from a trusted IdP and redeems it
// at the gateway (and so does the Go SDK's enterprise handler); the user signs in nowhere, the token works on its MCP
// endpoint only and comes without a refresh token; an assertion for a user
// the gateway does not know is refused and audited.
func TestEnterpriseManagedAuthorizationWithTheTypeScriptSDK(t *testing.T) {
	idp := newEnterpriseIdP(t)
	dir := t.TempDir()
	ca := idp.caFile(dir)
	cfg := filepath.Join(dir, "gatehouse.yaml")
	if err := os.WriteFile(cfg, []byte("oauth:\n  test_trust_ca_file: "+ca+"\n  enterprise_idps:\n    - issuer: "+idp.srv.URL+
		"\n      jwks_uri: "+idp.srv.URL+"/jwks\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startOAuthGateway(t, "serve", "--config", cfg)
	var client struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if code := g.admin(http.MethodPost, "/oauth/clients", map[string]any{"client_name": "Enterprise agent", "confidential": true,
		"grant_types": []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"}}, &client); code != http.StatusCreated || client.Secret == "" {
		t.Fatalf("create client: HTTP %d %+v", code, client)
	}
	idp.mu.Lock()
	idp.gwClient = client.ID
	idp.users["id-token-of-ann"] = "ann"
	idp.users["id-token-of-zed"] = "zed" // not a Gatehouse user
	idp.mu.Unlock()
	run := func(idToken string) tsIDJAG {
		return runTSIDJAG(t, ca, "--url", g.mcpURL("everything"), "--client-id", client.ID, "--client-secret", client.Secret,
			"--expected-issuer", g.base, "--idp", idp.srv.URL, "--idp-client", "idp-client-of-the-agent", "--id-token", idToken)
	}

	o := run("id-token-of-ann")
	if !o.OK {
		t.Fatalf("the flow failed: %s", o.Error)
	}
	r := o.Result
	if r.Audience != g.base && r.Audience != g.base+"/" {
		t.Errorf("the SDK asked the IdP for audience %q, want the gateway's issuer %q", r.Audience, g.base)
	}
	if r.TokenScope != "mcp" || r.HasRefreshToken {
		t.Errorf("tokens: scope %q, refresh token %v (want mcp, none)", r.TokenScope, r.HasRefreshToken)
	}
	if !slices.Contains(r.Tools, "echo") || !strings.Contains(r.Echo, "hello through an identity assertion") {
		t.Errorf("tools %v, echo %q", r.Tools, r.Echo)
	}
	idp.mu.Lock()
	exchanges := slices.Clone(idp.exchanges)
	idp.mu.Unlock()
	if len(exchanges) != 1 || exchanges[0]["resource"] != g.mcpURL("everything") || exchanges[0]["client_id"] != "idp-client-of-the-agent" {
		t.Errorf("token exchanges at the IdP: %v", exchanges)
	}
	refusedElsewhere(t, g, r.AccessToken)

	// The official Go SDK's enterprise handler (auth/extauth) as a second
	// real client: its own token exchange at the IdP, then the jwt-bearer
	// grant at the gateway.
	h, err := extauth.NewEnterpriseHandler(&extauth.EnterpriseHandlerConfig{
		IdPIssuerURL:     idp.srv.URL,
		IdPCredentials:   &oauthex.ClientCredentials{ClientID: "idp-client-of-the-agent"},
		MCPAuthServerURL: g.base,
		MCPResourceURI:   g.mcpURL("everything"),
		MCPCredentials:   &oauthex.ClientCredentials{ClientID: client.ID, ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: client.Secret}},
		IDTokenFetcher: func(context.Context) (*oauth2.Token, error) {
			return (&oauth2.Token{}).WithExtra(map[string]any{"id_token": "id-token-of-ann"}), nil
		},
		HTTPClient: idp.srv.Client(), // trusts the IdP's certificate; plain http to the gateway
	})
	if err != nil {
		t.Fatal(err)
	}
	goClient := mcp.NewClient(&mcp.Implementation{Name: "go-sdk-enterprise-e2e", Version: "1"}, nil)
	sess, err := goClient.Connect(ctxFor(t), &mcp.StreamableClientTransport{Endpoint: g.mcpURL("everything"), OAuthHandler: h}, nil)
	if err != nil {
		t.Fatalf("the Go SDK's enterprise handler: %v", err)
	}
	res, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hello from the Go SDK's enterprise handler"}})
	_ = sess.Close()
	if err != nil || res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "enterprise handler") {
		t.Fatalf("call: %v %+v", err, res)
	}

	if o := run("id-token-of-zed"); o.OK || !strings.Contains(o.Error, "no enabled Gatehouse user") {
		t.Errorf("an assertion for an unknown user: ok %v, error %q", o.OK, tail(o.Error, 400))
	}
	var page struct {
		Entries []audit.Entry `json:"entries"`
	}
	if code := g.admin(http.MethodGet, "/audit?action=oauth.token", nil, &page); code != http.StatusOK {
		t.Fatalf("audit: HTTP %d", code)
	}
	var ok, denied bool
	for _, e := range page.Entries {
		raw, _ := json.Marshal(e.Details)
		if !strings.Contains(string(raw), "jwt-bearer") {
			continue
		}
		ok = ok || (e.Outcome == audit.OutcomeSuccess && e.Actor == "ann")
		denied = denied || (e.Outcome == audit.OutcomeDenied && strings.Contains(e.Error, "zed"))
	}
	if !ok || !denied {
		t.Errorf("audit: granted to ann %v, refused for zed %v: %+v", ok, denied, page.Entries)
	}
}
