//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gatehouse-mcp/gatehouse/test/oauthpeer"
)

// codeUpstreamNotConnected is the gateway's error for a call by a user who
// has not connected their account at an OAuth upstream.
const codeUpstreamNotConnected = -31062

// notConnectedLink sends an initialize as token's user to slug and
// returns the connect link the gateway's -31062 error names.
func notConnectedLink(t *testing.T, g *gateway, slug, token string) string {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}`
	req, _ := http.NewRequest(http.MethodPost, g.mcpURL(slug), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if i := bytes.Index(raw, []byte("data: ")); i >= 0 { // an SSE answer
		raw = raw[i+len("data: "):]
	}
	var ans struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    struct {
				ConnectURL string `json:"connect_url"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&ans); err != nil || ans.Error == nil {
		t.Fatalf("want a JSON-RPC error, got HTTP %d %s", resp.StatusCode, raw)
	}
	e := ans.Error
	if e.Code != codeUpstreamNotConnected || !strings.HasPrefix(e.Data.ConnectURL, g.base+"/connect/"+slug+"?ticket=") ||
		!strings.Contains(e.Message, e.Data.ConnectURL) || !strings.Contains(e.Message, "gatehouse connect "+slug) {
		t.Fatalf("error %d %q data %q: want %d naming the connect URL and the CLI", e.Code, e.Message, e.Data.ConnectURL, codeUpstreamNotConnected)
	}
	return e.Data.ConnectURL
}

// connectInBrowser plays the user's browser: it opens the link (the
// confirmation page), submits it, and follows the upstream's sign-in back
// to the gateway's callback.
func connectInBrowser(t *testing.T, link, user string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Gatehouse user "+user) {
		t.Fatalf("confirmation page: HTTP %d %s", resp.StatusCode, page)
	}
	u, _ := url.Parse(link)
	resp, err = browser.PostForm(u.Scheme+"://"+u.Host+u.Path, url.Values{"ticket": {u.Query().Get("ticket")}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "is connected to") {
		t.Fatalf("after the sign-in: HTTP %d %s", resp.StatusCode, page)
	}
	// The link is single-use.
	resp, err = browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a used link answered HTTP %d, want 400", resp.StatusCode)
	}
}

// whoami calls the upstream's whoami tool through the gateway with the
// official Go SDK client as token's user.
func whoami(t *testing.T, g *gateway, slug, token string) string {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "gatehouse-e2e", Version: "1.0.0"}, nil)
	sess, err := client.Connect(ctxFor(t), &mcp.StreamableClientTransport{Endpoint: g.mcpURL(slug),
		HTTPClient: &http.Client{Transport: bearerTransport{token}}}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer sess.Close()
	res, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: "whoami"})
	if err != nil || res.IsError {
		t.Fatalf("whoami: %v %+v", err, res)
	}
	return textOf(res)
}

// TestUpstreamOAuthConnectFlow: an OAuth-protected upstream (the Go SDK's
// auth middleware and a test authorization server) behind a connector of
// kind oauth2. A user who has not connected gets -31062 naming a link;
// the link's flow (driven here as the browser) stores a per-user token;
// calls then reach the upstream with that user's token — refreshed
// first, since the token's lifetime is inside the refresh margin — and
// never the client's; removing the user, then the connector, revokes
// their tokens at the upstream.
func TestUpstreamOAuthConnectFlow(t *testing.T) {
	peer, err := oauthpeer.Start(oauthpeer.Options{ExpiresIn: 30})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peer.Close)
	g := startGateway(t, "")
	alice, bob := g.addMember(t, "alice", "admin"), g.addMember(t, "bob", "admin")
	g.addConnector(map[string]any{"name": "Protected", "slug": "protected", "url": peer.MCPURL, "auth": map[string]any{"kind": "oauth2"}})

	connectInBrowser(t, notConnectedLink(t, g, "protected", alice), "alice")
	if got := whoami(t, g, "protected", alice); got != "upstream-user-1" {
		t.Fatalf("alice is %q upstream, want upstream-user-1", got)
	}
	// Bob has not connected: his call is refused, naming his own link.
	connectInBrowser(t, notConnectedLink(t, g, "protected", bob), "bob")
	if got := whoami(t, g, "protected", bob); got != "upstream-user-2" {
		t.Fatalf("bob is %q upstream, want upstream-user-2", got)
	}

	regs, codes, refreshes, _, seen := peer.Snapshot()
	if regs != 1 || codes != 2 || refreshes < 2 {
		t.Fatalf("registrations %d (want 1), code grants %d (want 2), refreshes %d (want ≥ 2: each token expires inside the margin)", regs, codes, refreshes)
	}
	if len(seen) != 2 {
		t.Fatalf("the upstream saw %d calls, want 2", len(seen))
	}
	for _, tok := range seen {
		if tok == alice || tok == bob || !peer.Issued(tok) || !peer.Refreshed(tok) {
			t.Fatalf("the upstream saw %q: want a refreshed token its authorization server issued, never the client's", tok)
		}
	}

	if code := g.admin(http.MethodDelete, "/users/alice", nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete alice: HTTP %d", code)
	}
	if !peer.Revoked(seen[0]) || peer.Revoked(seen[1]) {
		t.Fatal("removing alice must revoke her upstream token and only hers")
	}
	if code := g.admin(http.MethodDelete, "/connectors/protected", nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete the connector: HTTP %d", code)
	}
	if !peer.Revoked(seen[1]) {
		t.Fatal("removing the connector must revoke bob's upstream token")
	}
}
