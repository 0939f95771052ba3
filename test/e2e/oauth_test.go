//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
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
		Iss             string   `json:"iss"`
		TokenScope      string   `json:"tokenScope"`
		HasRefreshToken bool     `json:"hasRefreshToken"`
		AccessToken     string   `json:"accessToken"`
		Tools           []string `json:"tools"`
		Echo            string   `json:"echo"`
	} `json:"result"`
}

func runTSOAuth(t *testing.T, url string, extra ...string) tsOAuth {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(here), "node", "oauth.mjs")
	cmd := exec.Command(peers.node, append([]string{script, "--url", url, "--user", "ann", "--password", oauthPassword}, extra...)...)
	cmd.Env = append(os.Environ(), "GATEHOUSE_TOOLS="+peers.tools, "GATEHOUSE_NODE_MODULES="+peers.nodeModules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var o tsOAuth
	if jerr := json.Unmarshal(out, &o); jerr != nil {
		t.Fatalf("no JSON result (%v, %v)\nstdout: %s\nstderr: %s", err, jerr, out, tail(stderr.String(), 2000))
	}
	if !o.OK || err != nil {
		t.Fatalf("OAuth flow failed: %s\nstderr: %s", o.Error, tail(stderr.String(), 2000))
	}
	return o
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
	req, _ := http.NewRequest(http.MethodPost, g.mcpURL("other"), strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Authorization", "Bearer "+r.AccessToken)
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
