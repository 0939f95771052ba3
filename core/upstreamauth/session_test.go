package upstreamauth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
	"github.com/gatehouse-mcp/gatehouse/core/store"
	"github.com/gatehouse-mcp/gatehouse/test/oauthpeer"
)

// whoamiIn calls the peer's whoami tool in sess and returns its text, or
// the JSON-RPC error the call got.
func whoamiIn(ctx context.Context, sess *proxy.Session, id int) (string, error) {
	call, _ := mcp.NewRequest(json.RawMessage(strings.Repeat("9", id)), mcp.MethodToolsCall, map[string]any{"name": "whoami"})
	st, err := sess.Call(ctx, call)
	if err != nil {
		return "", err
	}
	defer st.Close()
	for {
		m, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			return "", errors.New("the stream ended without an answer")
		}
		if err != nil {
			return "", err
		}
		if m.Error != nil {
			return "", m.Error
		}
		if m.Result == nil {
			continue // a notification
		}
		var res struct {
			Content []struct{ Text string } `json:"content"`
			IsError bool                    `json:"isError"`
		}
		if err := json.Unmarshal(m.Result, &res); err != nil || res.IsError || len(res.Content) != 1 {
			return "", errors.New("unexpected result " + string(m.Result))
		}
		return res.Content[0].Text, nil
	}
}

// TestLongSessionOutlivesItsToken: a session opened through the proxy
// before the user's upstream token expires keeps working after it has:
// the proxy takes the Authorization anew for each request, so the
// refreshed token reaches the upstream in the same upstream session. The
// peer's resource server expires tokens by the same injected clock, so
// the stale token would be refused (the 401 is checked first).
func TestLongSessionOutlivesItsToken(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	f := newFixtureOn(t, clk, oauthpeer.Options{ExpiresIn: 600, Now: clk.now}, connector.Auth{Kind: connector.AuthOAuth2})
	first := f.connect(t, "ada")

	p := f.newProxy(t)
	ctx := context.Background()
	init := initializeRequest()
	sess, resp, err := p.Initialize(ctx, auth.Principal{User: "ada"}, "linear", init)
	if err != nil || resp.Error != nil {
		t.Fatalf("initialize: %v %v", err, resp)
	}
	if who, err := whoamiIn(ctx, sess, 2); err != nil || who != "upstream-user-1" {
		t.Fatalf("first call: %q, %v", who, err)
	}

	// The token expires (the peer refuses it from now on) while the
	// session stays open.
	clk.add(11 * time.Minute)
	if st, _ := oauthpeerProbe(ctx, f.peer.MCPURL, first); st != 401 {
		t.Fatalf("the peer answers the stale token with HTTP %d, want 401", st)
	}
	if who, err := whoamiIn(ctx, sess, 3); err != nil || who != "upstream-user-1" {
		t.Fatalf("a call after the token expired: %q, %v", who, err)
	}

	_, _, refreshes, _, seen := f.peer.Snapshot()
	sessions := f.peer.SessionsSeen()
	if len(seen) != 2 || seen[0] != first || seen[1] == first || !f.peer.Refreshed(seen[1]) || refreshes != 1 {
		t.Fatalf("the upstream saw %q (%d refreshes): want the first token, then one refreshed token", seen, refreshes)
	}
	if len(sessions) != 2 || sessions[0] == "" || sessions[0] != sessions[1] {
		t.Fatalf("upstream sessions %q: want both calls in one session", sessions)
	}
}

// TestLongSessionAfterDisconnectAsksToConnect: once the user disconnects,
// the next request of a session opened earlier gets the not-connected
// error naming a link (the revoked token is not used again).
func TestLongSessionAfterDisconnectAsksToConnect(t *testing.T) {
	f := newFixture(t, oauthpeer.Options{}, connector.Auth{Kind: connector.AuthOAuth2})
	f.connect(t, "ada")
	p := f.newProxy(t)
	ctx := context.Background()
	init := initializeRequest()
	sess, _, err := p.Initialize(ctx, auth.Principal{User: "ada"}, "linear", init)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := whoamiIn(ctx, sess, 2); err != nil {
		t.Fatal(err)
	}
	if had, err := f.svc.Disconnect(ctx, f.conn, "ada"); err != nil || !had {
		t.Fatalf("disconnect: %v %v", had, err)
	}
	_, err = whoamiIn(ctx, sess, 3)
	notConnected(t, err)
	if _, _, _, _, seen := f.peer.Snapshot(); len(seen) != 1 {
		t.Fatalf("the upstream saw %d calls, want 1 (none after the disconnect)", len(seen))
	}
}

// oauthpeerProbe sends an initialize with token straight to the peer and
// returns the HTTP status.
func oauthpeerProbe(ctx context.Context, mcpURL, token string) (int, error) {
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, mcpURL, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestStepUpAsksForTheUpstreamsScope: the connector asks for a scope the
// upstream's resource server does not accept (it requires mcp:tools);
// the upstream's 403 names the scope, the user gets -31062 naming a link,
// and that link's flow asks for the named scope beside the one granted;
// after it the session works.
func TestStepUpAsksForTheUpstreamsScope(t *testing.T) {
	f := newFixture(t, oauthpeer.Options{}, connector.Auth{Kind: connector.AuthOAuth2, OAuth2: &connector.OAuth2{Scopes: []string{"profile"}}})
	f.connect(t, "ada")
	p := f.newProxy(t)
	ctx := context.Background()
	init := initializeRequest()
	_, _, err := p.Initialize(ctx, auth.Principal{User: "ada"}, "linear", init)
	link := notConnected(t, err)
	var rpcErr *mcp.Error
	if errors.As(err, &rpcErr); !strings.Contains(rpcErr.Message, "mcp:tools") {
		t.Fatalf("the error %q does not name the scope the upstream asks for", rpcErr.Message)
	}
	authURL, state, err := f.svc.Start(ctx, ticketOf(t, link))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	if got := strings.Fields(u.Query().Get("scope")); !slices.Contains(got, "mcp:tools") || !slices.Contains(got, "profile") {
		t.Fatalf("the step-up asks for scope %q, want mcp:tools and the granted profile", got)
	}
	if _, err := f.svc.Callback(ctx, authorize(t, authURL), state); err != nil {
		t.Fatal(err)
	}
	sess, resp, err := p.Initialize(ctx, auth.Principal{User: "ada"}, "linear", init)
	if err != nil || resp.Error != nil {
		t.Fatalf("initialize after the step-up: %v %v", err, resp)
	}
	if who, err := whoamiIn(ctx, sess, 2); err != nil || who == "" {
		t.Fatalf("whoami after the step-up: %q %v", who, err)
	}
}

// TestRevokedUpstreamTokenAsksToConnectAgain: the upstream withdraws the
// grant on its side; the next call of an open session gets -31062 naming
// a link (not "connector unavailable") and the dead token is forgotten.
func TestRevokedUpstreamTokenAsksToConnectAgain(t *testing.T) {
	f := newFixture(t, oauthpeer.Options{}, connector.Auth{Kind: connector.AuthOAuth2})
	tok := f.connect(t, "ada")
	p := f.newProxy(t)
	ctx := context.Background()
	init := initializeRequest()
	sess, _, err := p.Initialize(ctx, auth.Principal{User: "ada"}, "linear", init)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := whoamiIn(ctx, sess, 2); err != nil {
		t.Fatal(err)
	}
	f.peer.RevokeNow(tok)
	_, err = whoamiIn(ctx, sess, 3)
	notConnected(t, err)
	if _, err := f.st.UpstreamTokens().Token(ctx, f.conn.ID, "ada"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused token is still stored: %v", err)
	}
}

// newProxy is a proxy over f's connectors that takes upstream OAuth from
// f's service.
func (f *fixture) newProxy(t *testing.T) *proxy.Proxy {
	t.Helper()
	p := proxy.New(f.reg, nil, proxy.Options{CallTimeout: 10 * time.Second, IdleTimeout: time.Hour,
		AllowPrivateNetworks: true, MaxMessageBytes: 1 << 20, UpstreamAuth: f.svc}, zerolog.Nop())
	t.Cleanup(p.Close)
	return p
}

// initializeRequest is a client's initialize.
func initializeRequest() *mcp.Message {
	return &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage("1"), Method: mcp.MethodInitialize,
		Params: json.RawMessage(`{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`)}
}
