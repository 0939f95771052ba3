//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/test/oidcpeer"
)

const oauthPassword = "a long e2e password"

// startOAuthGateway starts a gateway that requires credentials (so MCP
// clients must sign in) with user ann, who has a password, and the
// everything server as connector "everything".
func startOAuthGateway(t *testing.T, args ...string) *gateway {
	t.Helper()
	if len(args) == 0 {
		args = []string{"serve"}
	}
	g := startGatewayIn(t, "", args, "GATEHOUSE_CLIENT_AUTH=token")
	if code := g.admin(http.MethodPost, "/users", map[string]any{"id": "ann", "roles": []string{"admin"}}, nil); code != http.StatusCreated {
		t.Fatalf("create user: HTTP %d", code)
	}
	if code := g.admin(http.MethodPut, "/users/ann/password", map[string]any{"password": oauthPassword}, nil); code != http.StatusNoContent {
		t.Fatalf("set password: HTTP %d", code)
	}
	// The organisation allows the test clients' loopback callbacks (a
	// URI on neither list would pause the flow for an admin).
	for _, uri := range []string{"http://127.0.0.1:53682/callback", "http://127.0.0.1:53999/cb"} {
		if code := g.admin(http.MethodPost, "/redirects", map[string]any{"list": "allowed", "uri": uri}, nil); code != http.StatusCreated {
			t.Fatalf("allow redirect %s: HTTP %d", uri, code)
		}
	}
	g.addConnector(everythingSTDIO("everything"))
	return g
}

// tsOAuth is what test/e2e/node/oauth.mjs prints.
type tsOAuth struct {
	OK     bool   `json:"ok"`
	Error  string `json:"error"`
	Result struct {
		ClientID  string `json:"clientId"`
		Authorize struct {
			CodeChallengeMethod string `json:"codeChallengeMethod"`
			Resource            string `json:"resource"`
			Scope               string `json:"scope"`
		} `json:"authorize"`
		Iss string `json:"iss"`
		tsTokens
	} `json:"result"`
}

// tsTokens is what the OAuth node client scripts report of their tokens and
// of the session it then ran.
type tsTokens struct {
	TokenScope      string   `json:"tokenScope"`
	HasRefreshToken bool     `json:"hasRefreshToken"`
	AccessToken     string   `json:"accessToken"`
	Tools           []string `json:"tools"`
	Echo            string   `json:"echo"`
}

func runTSOAuth(t *testing.T, url string, extra ...string) tsOAuth {
	t.Helper()
	var o tsOAuth
	stderr, err := runNodeJSON(t, "oauth.mjs", nil, &o, append([]string{"--url", url, "--user", "ann", "--password", oauthPassword}, extra...)...)
	if !o.OK || err != nil {
		t.Fatalf("OAuth flow failed: %s\nstderr: %s", o.Error, stderr)
	}
	return o
}

// runNodeJSON runs test/e2e/node/SCRIPT with args under the test peers'
// Node and decodes the one JSON object it prints into out; it returns
// the end of its stderr and its exit error.
func runNodeJSON(t *testing.T, script string, env []string, out any, args ...string) (string, error) {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	cmd := exec.Command(peers.node, append([]string{filepath.Join(filepath.Dir(here), "node", script)}, args...)...)
	cmd.Env = append(append(os.Environ(), "GATEHOUSE_TOOLS="+peers.tools, "GATEHOUSE_NODE_MODULES="+peers.nodeModules), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if jerr := json.Unmarshal(stdout, out); jerr != nil {
		t.Fatalf("%s printed no JSON result (%v, %v)\nstdout: %s\nstderr: %s", script, err, jerr, stdout, tail(stderr.String(), 2000))
	}
	return tail(stderr.String(), 2000), err
}

// checkTSFlow checks what every TypeScript SDK flow must show.
func checkTSFlow(t *testing.T, g *gateway, o tsOAuth) {
	t.Helper()
	r := o.Result
	if r.Authorize.CodeChallengeMethod != "S256" || r.Authorize.Resource != g.mcpURL("everything") || r.Iss != g.base {
		t.Errorf("authorization request/response: %+v, iss %q", r.Authorize, r.Iss)
	}
	if r.TokenScope != "mcp" || !r.HasRefreshToken {
		t.Errorf("tokens: scope %q, refresh token %v", r.TokenScope, r.HasRefreshToken)
	}
	if !slices.Contains(r.Tools, "echo") || !strings.Contains(r.Echo, "hello through oauth") {
		t.Errorf("tools %v, echo %q", r.Tools, r.Echo)
	}
	// The token is bound to its endpoint: another one refuses it.
	refusedElsewhere(t, g, r.AccessToken)
}

// refusedElsewhere checks that an access token for /mcp/everything is a
// 401 on /mcp/other.
func refusedElsewhere(t *testing.T, g *gateway, token string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.mcpURL("other"), strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token for /mcp/everything on /mcp/other: HTTP %d, want 401", resp.StatusCode)
	}
}

func TestOAuthTypeScriptSDKWithDynamicRegistration(t *testing.T) {
	g := startOAuthGateway(t)
	t.Run("an MCP request without a token is challenged with the resource metadata", func(t *testing.T) {
		resp, err := http.Post(g.mcpURL("everything"), "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := `Bearer resource_metadata="` + g.base + `/.well-known/oauth-protected-resource/mcp/everything", scope="mcp"`
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
			t.Fatalf("HTTP %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
	o := runTSOAuth(t, g.mcpURL("everything"))
	if !strings.HasPrefix(o.Result.ClientID, "dcr_") {
		t.Errorf("client id %q: not dynamically registered", o.Result.ClientID)
	}
	checkTSFlow(t, g, o)
}

func TestOAuthTypeScriptSDKWithClientMetadataDocument(t *testing.T) {
	const redirect = "http://127.0.0.1:53682/callback"
	var docURL string
	var fetched atomic.Int32
	host := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/client.json" {
			http.NotFound(w, r)
			return
		}
		fetched.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"client_id": docURL, "client_name": "CIMD e2e client",
			"redirect_uris": []string{redirect}, "grant_types": []string{"authorization_code", "refresh_token"},
			"response_types": []string{"code"}, "token_endpoint_auth_method": "none"})
	}))
	t.Cleanup(host.Close)
	docURL = host.URL + "/oauth/client.json"
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: host.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "gatehouse.yaml")
	if err := os.WriteFile(cfg, []byte("oauth:\n  test_trust_ca_file: "+ca+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startOAuthGateway(t, "serve", "--config", cfg)
	o := runTSOAuth(t, g.mcpURL("everything"), "--client-metadata-url", docURL, "--redirect", redirect)
	if o.Result.ClientID != docURL || fetched.Load() == 0 {
		t.Errorf("client id %q (want the document URL), document fetched %d times", o.Result.ClientID, fetched.Load())
	}
	checkTSFlow(t, g, o)
}

var formField = regexp.MustCompile(`name="(request|csrf)" value="([^"]+)"`)

// signInAs plays the browser through the gateway's sign-in and consent
// pages and returns the code from the redirect to redirectURI.
func signInAs(t *testing.T, authURL, redirectURI string) string {
	t.Helper()
	return signInRedirect(t, authURL, redirectURI).Get("code")
}

// signInRedirect plays the browser as signInAs does and returns the query
// of the redirect to redirectURI (code, state, iss).
func signInRedirect(t *testing.T, authURL, redirectURI string) url.Values {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	fields := func(resp *http.Response) url.Values {
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		v := url.Values{}
		for _, m := range formField.FindAllStringSubmatch(string(page), -1) {
			v.Set(m[1], m[2])
		}
		if v.Get("csrf") == "" {
			t.Fatalf("HTTP %d, no form: %s", resp.StatusCode, page)
		}
		return v
	}
	resp, err := b.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	form := fields(resp)
	form.Set("username", "ann")
	form.Set("password", oauthPassword)
	base := authURL[:strings.Index(authURL, "/oauth/")]
	if resp, err = b.PostForm(base+"/oauth/login", form); err != nil {
		t.Fatal(err)
	}
	form = fields(resp)
	form.Set("decision", "allow")
	if resp, err = b.PostForm(base+"/oauth/consent", form); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), redirectURI) {
		t.Fatalf("consent: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query()
}

// TestOAuthGoSDKAuthorizationCodeHandler: the official Go SDK's own OAuth
// client (auth.AuthorizationCodeHandler on its Streamable transport) finds
// the gateway's authorization server from the 401, registers dynamically,
// runs the code flow with PKCE (the test plays the browser), checks iss,
// and lists and calls tools.
func TestOAuthGoSDKAuthorizationCodeHandler(t *testing.T) {
	g := startOAuthGateway(t)
	const cb = "http://127.0.0.1:53999/cb"
	var asked *url.URL
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			ClientName: "Go SDK e2e", RedirectURIs: []string{cb}, TokenEndpointAuthMethod: "none"}},
		RedirectURL:         cb,
		RequestRefreshToken: true,
		AuthorizationCodeFetcher: func(_ context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			asked, _ = url.Parse(args.URL)
			q := signInRedirect(t, args.URL, cb)
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "go-sdk-oauth-e2e", Version: "1"}, nil)
	sess, err := client.Connect(ctxFor(t), &mcp.StreamableClientTransport{Endpoint: g.mcpURL("everything"), OAuthHandler: h}, nil)
	if err != nil {
		t.Fatalf("connect through the Go SDK's OAuth handler: %v", err)
	}
	defer sess.Close()
	res, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hello from the Go SDK's OAuth"}})
	if err != nil || res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "hello from the Go SDK's OAuth") {
		t.Fatalf("call: %v %+v", err, res)
	}
	if asked == nil || asked.Query().Get("code_challenge_method") != "S256" || asked.Query().Get("resource") != g.mcpURL("everything") {
		t.Errorf("authorization request: %v", asked)
	}
	var clients struct {
		Items []struct {
			Name   string `json:"client_name"`
			Source string `json:"source"`
		} `json:"items"`
	}
	if code := g.admin(http.MethodGet, "/oauth/clients", nil, &clients); code != http.StatusOK {
		t.Fatalf("clients: HTTP %d", code)
	}
	registered := false
	for _, c := range clients.Items {
		registered = registered || (c.Name == "Go SDK e2e" && c.Source == "dcr")
	}
	if !registered {
		t.Errorf("the Go SDK did not register dynamically: %+v", clients.Items)
	}
}

// TestOAuthGoClientAndNoTokenPassthrough: golang.org/x/oauth2 as a second
// real client (discovery by hand, dynamic registration, PKCE S256, the
// resource parameter), then the Go SDK calls a tool of an upstream that
// records what it receives: the client's access token never reaches it.
func TestOAuthGoClientAndNoTokenPassthrough(t *testing.T) {
	var seen struct {
		sync.Mutex
		auth []string
		n    int
	}
	up := mcp.NewServer(&mcp.Implementation{Name: "recorder", Version: "1"}, nil)
	mcp.AddTool(up, &mcp.Tool{Name: "ping", Description: "answers pong"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "pong"}}}, nil, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return up }, nil)
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Lock()
		seen.n++
		seen.auth = append(seen.auth, r.Header.Values("Authorization")...)
		seen.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.Close)
	g := startOAuthGateway(t)
	g.addConnector(map[string]any{"name": "rec", "slug": "rec", "transport": "streamable-http", "url": rec.URL})
	resource := g.mcpURL("rec")

	var meta struct {
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
		RegistrationEndpoint  string `json:"registration_endpoint"`
	}
	resp, err := http.Get(g.base + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	const cb = "http://127.0.0.1:53999/cb"
	resp, err = http.Post(meta.RegistrationEndpoint, "application/json", strings.NewReader(
		`{"client_name":"x/oauth2 e2e","redirect_uris":["`+cb+`"],"token_endpoint_auth_method":"none","application_type":"native"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || reg.ClientID == "" {
		t.Fatalf("register: HTTP %d", resp.StatusCode)
	}

	conf := &oauth2.Config{ClientID: reg.ClientID, RedirectURL: cb, Scopes: []string{"mcp"},
		Endpoint: oauth2.Endpoint{AuthURL: meta.AuthorizationEndpoint, TokenURL: meta.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	code := signInAs(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", resource)), cb)
	tok, err := conf.Exchange(ctxFor(t), code, oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("resource", resource))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}

	client := mcp.NewClient(&mcp.Implementation{Name: "oauth2-e2e", Version: "1"}, nil)
	sess, err := client.Connect(ctxFor(t), &mcp.StreamableClientTransport{Endpoint: resource, HTTPClient: conf.Client(ctxFor(t), tok)}, nil)
	if err != nil {
		t.Fatalf("connect with the access token: %v", err)
	}
	res, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: "ping"})
	if err != nil || res.IsError || len(res.Content) == 0 || res.Content[0].(*mcp.TextContent).Text != "pong" {
		t.Fatalf("call: %v %+v", err, res)
	}
	_ = sess.Close()

	seen.Lock()
	defer seen.Unlock()
	if seen.n == 0 {
		t.Fatal("the upstream saw no request")
	}
	for _, a := range seen.auth {
		if strings.Contains(a, tok.AccessToken) || strings.Contains(a, "eyJ") {
			t.Fatalf("the client's token reached the upstream: %q", a)
		}
	}
	if len(seen.auth) != 0 {
		t.Fatalf("the upstream got Authorization headers although its connector has no auth: %q", seen.auth)
	}
}

// TestOAuthSignInAtTheCompanyIdentityProvider: the sign-in page offers
// the OIDC provider of oauth.oidc (oauth2-proxy's mockoidc over TLS); the
// test's browser signs in there, consents, and golang.org/x/oauth2 gets a
// token the Go SDK calls a tool with.
func TestOAuthSignInAtTheCompanyIdentityProvider(t *testing.T) {
	idp := oidcpeer.Start(t)
	dir := t.TempDir()
	ca := filepath.Join(dir, "idp-ca.pem")
	if err := os.WriteFile(ca, idp.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	c := idp.Config()
	cfg := filepath.Join(dir, "gatehouse.yaml")
	if err := os.WriteFile(cfg, []byte("oauth:\n  test_trust_ca_file: "+ca+"\n  oidc:\n    name: Acme SSO\n    issuer: "+c.Issuer+
		"\n    client_id: "+c.ClientID+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGatewayIn(t, "", []string{"serve", "--config", cfg}, "GATEHOUSE_CLIENT_AUTH=token", "GATEHOUSE_OAUTH_OIDC_CLIENT_SECRET="+c.ClientSecret)
	if code := g.admin(http.MethodPost, "/users", map[string]any{"id": "ann@example.com", "roles": []string{"admin"}}, nil); code != http.StatusCreated {
		t.Fatalf("create user: HTTP %d", code)
	}
	const cb = "http://127.0.0.1:53999/cb"
	if code := g.admin(http.MethodPost, "/redirects", map[string]any{"list": "allowed", "uri": cb}, nil); code != http.StatusCreated {
		t.Fatalf("allow redirect: HTTP %d", code)
	}
	g.addConnector(everythingSTDIO("everything"))
	resource := g.mcpURL("everything")
	resp, err := http.Post(g.base+"/oauth/register", "application/json", strings.NewReader(
		`{"client_name":"x/oauth2 SSO e2e","redirect_uris":["`+cb+`"],"token_endpoint_auth_method":"none","application_type":"native"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	conf := &oauth2.Config{ClientID: reg.ClientID, RedirectURL: cb, Scopes: []string{"mcp"},
		Endpoint: oauth2.Endpoint{AuthURL: g.base + "/oauth/authorize", TokenURL: g.base + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()

	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Transport: idp.Transport(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	step := func(resp *http.Response, err error) (*http.Response, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		return resp, string(page)
	}
	fields := func(page string) url.Values {
		v := url.Values{}
		for _, m := range formField.FindAllStringSubmatch(page, -1) {
			v.Set(m[1], m[2])
		}
		return v
	}
	_, page := step(b.Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", resource))))
	if !strings.Contains(page, "Sign in with Acme SSO") {
		t.Fatalf("no SSO button on the sign-in page:\n%s", page)
	}
	r, _ := step(b.PostForm(g.base+"/oauth/oidc/start", fields(page)))
	idp.QueueUser(&mockoidc.MockUser{Subject: "00u-ann", Email: "ann@example.com", EmailVerified: true})
	r, _ = step(b.Get(r.Header.Get("Location")))    // at the provider
	r, page = step(b.Get(r.Header.Get("Location"))) // back at the gateway: consent
	if r.StatusCode != http.StatusOK || !strings.Contains(page, "ann@example.com") {
		t.Fatalf("after the provider: HTTP %d\n%s", r.StatusCode, page)
	}
	form := fields(page)
	form.Set("decision", "allow")
	r, _ = step(b.PostForm(g.base+"/oauth/consent", form))
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || r.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("consent: HTTP %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	tok, err := conf.Exchange(ctxFor(t), loc.Query().Get("code"), oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("resource", resource))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "sso-e2e", Version: "1"}, nil)
	sess, err := client.Connect(ctxFor(t), &mcp.StreamableClientTransport{Endpoint: resource, HTTPClient: conf.Client(ctxFor(t), tok)}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer sess.Close()
	res, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hello through SSO"}})
	if err != nil || res.IsError || len(res.Content) == 0 || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "hello through SSO") {
		t.Fatalf("call: %v %+v", err, res)
	}
	var audited struct {
		Entries []audit.Entry `json:"entries"`
	}
	if code := g.admin(http.MethodGet, "/audit?action=oauth.login", nil, &audited); code != http.StatusOK {
		t.Fatalf("audit: HTTP %d", code)
	}
	found := false
	for _, e := range audited.Entries {
		found = found || (e.Actor == "ann@example.com" && e.Outcome == audit.OutcomeSuccess && e.Details["method"] == "oidc")
	}
	if !found {
		t.Errorf("no oauth.login entry for ann@example.com by oidc: %+v", audited.Entries)
	}
}
