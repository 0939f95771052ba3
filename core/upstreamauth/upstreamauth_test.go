package upstreamauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
	"github.com/gatehouse-mcp/gatehouse/test/oauthpeer"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	peer  *oauthpeer.Peer
	svc   *Service
	reg   *connector.Registry
	conn  *connector.Connector
	clock *clock
	st    *store.Store
}

func newFixture(t *testing.T, opts oauthpeer.Options, auth connector.Auth) *fixture {
	t.Helper()
	return newFixtureOn(t, &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}, opts, auth)
}

// newFixtureOn is newFixture with the service on clk (the peer too when
// opts.Now is clk.now, so its resource server expires tokens by it).
func newFixtureOn(t *testing.T, clk *clock, opts oauthpeer.Options, auth connector.Auth) *fixture {
	t.Helper()
	peer, err := oauthpeer.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peer.Close)
	box, err := secret.New(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenInMemory(box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &connector.Connector{ID: "c1", Slug: "linear", Name: "Linear", Transport: connector.TransportStreamableHTTP,
		URL: peer.MCPURL, Auth: auth, Status: connector.StatusActive}
	reg := connector.NewRegistry([]*connector.Connector{c})
	svc := New(st.UpstreamTokens(), reg, Options{PublicURL: "http://gw.test", Now: clk.now})
	return &fixture{peer: peer, svc: svc, reg: reg, conn: c, clock: clk, st: st}
}

// notConnected asserts err is the not-connected error and returns its link.
func notConnected(t *testing.T, err error) string {
	t.Helper()
	var rpcErr *mcp.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != mcp.CodeUpstreamNotConnected {
		t.Fatalf("got %v, want a CodeUpstreamNotConnected error", err)
	}
	var data NotConnectedData
	if err := json.Unmarshal(rpcErr.Data, &data); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(data.ConnectURL, "http://gw.test/connect/linear?ticket=") || !strings.Contains(rpcErr.Message, data.ConnectURL) {
		t.Fatalf("connect URL %q, message %q", data.ConnectURL, rpcErr.Message)
	}
	return data.ConnectURL
}

func ticketOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("ticket")
}

// authorize plays the browser at the upstream: it follows the authorize
// URL and returns the callback's query.
func authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize answered %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != "http://gw.test"+CallbackPath {
		t.Fatalf("redirected to %s", got)
	}
	return loc.Query()
}

// connect runs a whole connect flow for user and returns the token.
func (f *fixture) connect(t *testing.T, user string) string {
	t.Helper()
	ctx := context.Background()
	_, err := f.svc.Authorization(ctx, f.conn, user)
	link := notConnected(t, err)
	authURL, state, err := f.svc.Start(ctx, ticketOf(t, link))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Callback(ctx, authorize(t, authURL), state); err != nil {
		t.Fatal(err)
	}
	h, err := f.svc.Authorization(ctx, f.conn, user)
	if err != nil {
		t.Fatal(err)
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || !f.peer.Issued(tok) {
		t.Fatalf("Authorization %q is not a token the upstream issued", h)
	}
	return tok
}

func TestConnectFlowRegistersAndStoresAPerUserToken(t *testing.T) {
	tests := []struct {
		name     string
		peer     oauthpeer.Options
		auth     connector.Auth
		wantRegs int
	}{
		{"dynamic registration for kind oauth2", oauthpeer.Options{}, connector.Auth{Kind: connector.AuthOAuth2}, 1},
		{"the probe finds OAuth for kind auto", oauthpeer.Options{}, connector.Auth{Kind: connector.AuthAuto}, 1},
		{"a pre-registered client with a secret", oauthpeer.Options{NoRegistration: true, PreregisteredID: "gw", PreregisteredSecret: "s3cret"},
			connector.Auth{Kind: connector.AuthOAuth2, OAuth2: &connector.OAuth2{Registration: connector.RegistrationPreregistered, ClientID: "gw", ClientSecret: "s3cret"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.peer, tt.auth)
			alice := f.connect(t, "alice")
			bob := f.connect(t, "bob")
			if alice == bob {
				t.Fatal("two users got the same upstream token")
			}
			regs, codes, _, _, _ := f.peer.Snapshot()
			if regs != tt.wantRegs || codes != 2 {
				t.Fatalf("registrations %d (want %d), code grants %d (want 2): the client is registered once per connector", regs, tt.wantRegs, codes)
			}
		})
	}
}

func TestAutoWithoutChallengeNeedsNothing(t *testing.T) {
	f := newFixture(t, oauthpeer.Options{}, connector.Auth{Kind: connector.AuthAuto})
	plain := *f.conn
	plain.ID, plain.URL = "c2", f.peer.Issuer+"/not-mcp" // answers 404, not 401
	h, err := f.svc.Authorization(context.Background(), &plain, "alice")
	if err != nil || h != "" {
		t.Fatalf("got %q, %v; want no Authorization for an upstream that does not challenge", h, err)
	}
}

func TestTokenIsRefreshedBeforeItExpires(t *testing.T) {
	f := newFixture(t, oauthpeer.Options{ExpiresIn: 600}, connector.Auth{Kind: connector.AuthOAuth2})
	first := f.connect(t, "alice")
	ctx := context.Background()
	f.clock.add(8 * time.Minute) // 2 minutes left: outside the 1-minute margin
	if h, _ := f.svc.Authorization(ctx, f.conn, "alice"); h != "Bearer "+first {
		t.Fatalf("refreshed too early: %q", h)
	}
	f.clock.add(90 * time.Second) // 30 s left: inside the margin
	h, err := f.svc.Authorization(ctx, f.conn, "alice")
	if err != nil {
		t.Fatal(err)
	}
	second := strings.TrimPrefix(h, "Bearer ")
	if second == first || !f.peer.Issued(second) {
		t.Fatalf("not refreshed: %q", h)
	}
	if _, _, refreshes, _, _ := f.peer.Snapshot(); refreshes != 1 {
		t.Fatalf("%d refresh grants, want 1", refreshes)
	}
	// The rotated refresh token is stored: a second refresh works too.
	f.clock.add(10 * time.Minute)
	h, err = f.svc.Authorization(ctx, f.conn, "alice")
	if err != nil || h == "Bearer "+second {
		t.Fatalf("second refresh: %q, %v", h, err)
	}
}

func TestRefusedRefreshAsksToConnectAgain(t *testing.T) {
	f := newFixture(t, oauthpeer.Options{ExpiresIn: 600}, connector.Auth{Kind: connector.AuthOAuth2})
	f.connect(t, "alice")
	ctx := context.Background()
	tok, err := f.st.UpstreamTokens().Token(ctx, "c1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	tok.RefreshToken = "rt-forged"
	if err := f.st.UpstreamTokens().PutToken(ctx, "c1", "alice", tok); err != nil {
		t.Fatal(err)
	}
	f.clock.add(10 * time.Minute)
	_, err = f.svc.Authorization(ctx, f.conn, "alice")
	notConnected(t, err)
	if !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("error does not say why: %v", err)
	}
	if _, err := f.st.UpstreamTokens().Token(ctx, "c1", "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused token is still stored: %v", err)
	}
}

func TestBadCallbacksAreRefusedAndLoseNothing(t *testing.T) {
	f := newFixture(t, oauthpeer.Options{}, connector.Auth{Kind: connector.AuthOAuth2})
	ctx := context.Background()
	start := func(t *testing.T) (url.Values, string) {
		_, err := f.svc.Authorization(ctx, f.conn, "alice")
		authURL, state, err := f.svc.Start(ctx, ticketOf(t, notConnected(t, err)))
		if err != nil {
			t.Fatal(err)
		}
		return authorize(t, authURL), state
	}
	tests := []struct {
		name   string
		mutate func(q url.Values, state string) (url.Values, string)
		want   error
	}{
		{"a callback from another browser (no cookie)", func(q url.Values, _ string) (url.Values, string) { return q, "" }, ErrFlowInvalid},
		{"a cookie of another flow", func(q url.Values, _ string) (url.Values, string) { return q, "other" }, ErrFlowInvalid},
		{"an unknown state", func(q url.Values, _ string) (url.Values, string) { q.Set("state", "forged"); return q, "forged" }, ErrFlowInvalid},
		{"the upstream's error", func(q url.Values, s string) (url.Values, string) {
			q.Del("code")
			q.Set("error", "access_denied")
			return q, s
		}, ErrUpstreamDenied},
		{"another issuer (mix-up)", func(q url.Values, s string) (url.Values, string) { q.Set("iss", "https://evil.example"); return q, s }, ErrUpstreamDenied},
		{"no iss although advertised", func(q url.Values, s string) (url.Values, string) { q.Del("iss"); return q, s }, ErrUpstreamDenied},
		{"no code", func(q url.Values, s string) (url.Values, string) { q.Del("code"); return q, s }, ErrUpstreamDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, state := tt.mutate(start(t))
			if _, err := f.svc.Callback(ctx, q, state); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if _, err := f.svc.Authorization(ctx, f.conn, "alice"); err == nil {
				t.Fatal("a refused callback stored a token")
			}
		})
	}
	t.Run("a state is used once", func(t *testing.T) {
		q, state := start(t)
		if _, err := f.svc.Callback(ctx, q, state); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Callback(ctx, q, state); !errors.Is(err, ErrFlowInvalid) {
			t.Fatalf("replayed callback: %v", err)
		}
	})
	t.Run("a link is used once and expires", func(t *testing.T) {
		link, _ := f.svc.ConnectLink(f.conn, "bob")
		if _, _, err := f.svc.Start(ctx, ticketOf(t, link)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Start(ctx, ticketOf(t, link)); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("reused link: %v", err)
		}
		link, _ = f.svc.ConnectLink(f.conn, "bob")
		f.clock.add(11 * time.Minute)
		if _, _, err := f.svc.Start(ctx, ticketOf(t, link)); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("expired link: %v", err)
		}
	})
}

func TestRemovalRevokesUpstreamTokens(t *testing.T) {
	ctx := context.Background()
	t.Run("disconnect", func(t *testing.T) {
		f := newFixture(t, oauthpeer.Options{}, connector.Auth{Kind: connector.AuthOAuth2})
		tok := f.connect(t, "alice")
		if ok, err := f.svc.Disconnect(ctx, f.conn, "alice"); !ok || err != nil {
			t.Fatalf("disconnect: %v %v", ok, err)
		}
		if !f.peer.Revoked(tok) {
			t.Fatal("the upstream did not see the token revoked")
		}
		_, err := f.svc.Authorization(ctx, f.conn, "alice")
		notConnected(t, err)
	})
	t.Run("user removed", func(t *testing.T) {
		f := newFixture(t, oauthpeer.Options{}, connector.Auth{Kind: connector.AuthOAuth2})
		alice, bob := f.connect(t, "alice"), f.connect(t, "bob")
		if n, err := f.svc.ForgetUser(ctx, "alice"); n != 1 || err != nil {
			t.Fatalf("forget user: %d %v", n, err)
		}
		if !f.peer.Revoked(alice) || f.peer.Revoked(bob) {
			t.Fatal("removing alice must revoke hers and only hers")
		}
	})
	t.Run("connector removed", func(t *testing.T) {
		f := newFixture(t, oauthpeer.Options{}, connector.Auth{Kind: connector.AuthOAuth2})
		alice, bob := f.connect(t, "alice"), f.connect(t, "bob")
		if n, err := f.svc.ForgetConnector(ctx, f.conn); n != 2 || err != nil {
			t.Fatalf("forget connector: %d %v", n, err)
		}
		if !f.peer.Revoked(alice) || !f.peer.Revoked(bob) {
			t.Fatal("removing the connector must revoke every user's token")
		}
		if _, err := f.st.UpstreamTokens().Client(ctx, "c1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the registered client is kept: %v", err)
		}
	})
}

func TestRegistrationChoices(t *testing.T) {
	f := newFixture(t, oauthpeer.Options{NoRegistration: true}, connector.Auth{Kind: connector.AuthOAuth2})
	ctx := context.Background()
	_, err := f.svc.Authorization(ctx, f.conn, "alice")
	if _, _, err := f.svc.Start(ctx, ticketOf(t, notConnected(t, err))); !errors.Is(err, ErrNoRegistration) {
		t.Fatalf("no registration endpoint and no client id: %v", err)
	}
	cimd := *f.conn
	cimd.Auth.OAuth2 = &connector.OAuth2{Registration: connector.RegistrationCIMD}
	f.reg.Put(&cimd)
	link, _ := f.svc.ConnectLink(&cimd, "alice")
	if _, _, err := f.svc.Start(ctx, ticketOf(t, link)); !errors.Is(err, ErrNoRegistration) {
		t.Fatalf("cimd on a server without CIMD support: %v", err)
	}
}
