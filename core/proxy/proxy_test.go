package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// recordingUpstream is a legacy Streamable HTTP server that remembers the
// headers of the last initialize it saw.
type recordingUpstream struct {
	*httptest.Server
	mu      sync.Mutex
	headers http.Header
}

func newRecordingUpstream(t *testing.T) *recordingUpstream {
	u := &recordingUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msg, rpcErr := mcp.Parse(body)
		if rpcErr != nil || msg.Kind() != mcp.KindRequest {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch msg.Method {
		case mcp.MethodServerDiscover:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"error":{"code":-32600,"message":"no session"}}`)
		case mcp.MethodInitialize:
			u.mu.Lock()
			u.headers = r.Header.Clone()
			u.mu.Unlock()
			w.Header().Set(mcp.HeaderSessionID, "s1")
			io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"rec","version":"1"}}}`)
		default:
			io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{}}`)
		}
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *recordingUpstream) header(name string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.headers.Get(name)
}

// credentials is an in-memory Credentials for tests.
type credentials map[string]map[string]string

func (c credentials) Get(_ context.Context, user, slug string) (map[string]string, error) {
	return c[user+"/"+slug], nil
}

func newTestProxy(t *testing.T, creds credentials, conns ...*connector.Connector) *Proxy {
	t.Helper()
	for _, c := range conns {
		c.Normalize()
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	p := New(connector.NewRegistry(conns), creds, Options{CallTimeout: 10 * time.Second, IdleTimeout: time.Hour, AllowPrivateNetworks: true, MaxMessageBytes: 1 << 20}, zerolog.Nop())
	t.Cleanup(p.Close)
	return p
}

var initMsg = &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage("1"), Method: mcp.MethodInitialize,
	Params: json.RawMessage(`{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`)}

func TestInitializeFillsHeaderPlaceholdersPerUser(t *testing.T) {
	up := newRecordingUpstream(t)
	c := &connector.Connector{Name: "api", Slug: "api", URL: up.URL, Status: connector.StatusActive, Owner: "owner",
		Auth: connector.Auth{Kind: connector.AuthNone}, Headers: map[string]string{"X-Api-Key": "{API_KEY}", "X-Team": "team-{TEAM}"}}
	p := newTestProxy(t, credentials{"ada/api": {"API_KEY": "k-123", "TEAM": "blue"}, "bob/api": {"API_KEY": "k-456"}}, c)

	t.Run("a user with every value gets them substituted", func(t *testing.T) {
		if _, resp, err := p.Initialize(context.Background(), auth.Principal{User: "ada"}, "api", initMsg); err != nil || resp.Error != nil {
			t.Fatalf("initialize: %v %v", err, resp)
		}
		if got := up.header("X-Api-Key"); got != "k-123" {
			t.Errorf("X-Api-Key = %q", got)
		}
		if got := up.header("X-Team"); got != "team-blue" {
			t.Errorf("X-Team = %q", got)
		}
	})
	t.Run("a user missing a value gets an error naming it", func(t *testing.T) {
		_, _, err := p.Initialize(context.Background(), auth.Principal{User: "bob"}, "api", initMsg)
		var rpcErr *mcp.Error
		if !errors.As(err, &rpcErr) || rpcErr.Code != mcp.CodeMissingCredential || !strings.Contains(rpcErr.Message, "{TEAM}") || strings.Contains(rpcErr.Message, "{API_KEY}") {
			t.Fatalf("err = %v, want -31053 naming {TEAM} only", err)
		}
	})
	t.Run("a user with no values gets every placeholder named", func(t *testing.T) {
		_, _, err := p.Initialize(context.Background(), auth.Principal{User: "eve"}, "api", initMsg)
		if err == nil || !strings.Contains(err.Error(), "{API_KEY}, {TEAM}") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestBearerAuthReachesTheUpstream(t *testing.T) {
	up := newRecordingUpstream(t)
	c := &connector.Connector{Name: "b", Slug: "b", URL: up.URL, Status: connector.StatusActive, Auth: connector.Auth{Kind: connector.AuthBearer, Token: "upstream-secret"}}
	p := newTestProxy(t, nil, c)
	if _, _, err := p.Initialize(context.Background(), auth.Principal{User: "ada"}, "b", initMsg); err != nil {
		t.Fatal(err)
	}
	if got := up.header("Authorization"); got != "Bearer upstream-secret" {
		t.Errorf("Authorization = %q", got)
	}
}

func TestVisibilityAndStatus(t *testing.T) {
	up := newRecordingUpstream(t)
	mk := func(slug string, status connector.Status) *connector.Connector {
		return &connector.Connector{Name: slug, Slug: slug, URL: up.URL, Status: status, Owner: "ada", Auth: connector.Auth{Kind: connector.AuthNone}}
	}
	p := newTestProxy(t, nil, mk("live", connector.StatusActive), mk("draft", connector.StatusDraft), mk("off", connector.StatusDisabled))
	tests := []struct {
		name, user, slug string
		wantCode         int // 0: success
	}{
		{"an active connector opens for anyone", "bob", "live", 0},
		{"a draft opens for its owner", "ada", "draft", 0},
		{"a draft does not exist for anyone else", "bob", "draft", mcp.CodeConnectorNotFound},
		{"a disabled connector refuses with its own code", "ada", "off", mcp.CodeConnectorDisabled},
		{"an unknown connector is not found", "ada", "nope", mcp.CodeConnectorNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := p.Initialize(context.Background(), auth.Principal{User: tc.user}, tc.slug, initMsg)
			var rpcErr *mcp.Error
			switch {
			case tc.wantCode == 0 && err != nil:
				t.Fatalf("err = %v", err)
			case tc.wantCode != 0 && (!errors.As(err, &rpcErr) || rpcErr.Code != tc.wantCode):
				t.Fatalf("err = %v, want code %d", err, tc.wantCode)
			}
		})
	}
	t.Run("a session belongs to the user who opened it", func(t *testing.T) {
		s, _, err := p.Initialize(context.Background(), auth.Principal{User: "ada"}, "live", initMsg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Session(s.ID, auth.Principal{User: "bob"}); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("another user's lookup: %v", err)
		}
		if _, err := p.Session(s.ID, auth.Principal{User: "ada"}); err != nil {
			t.Errorf("owner's lookup: %v", err)
		}
		p.ConnectorChanged("live")
		if _, err := p.Session(s.ID, auth.Principal{User: "ada"}); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("a changed connector keeps its sessions: %v", err)
		}
	})
}

func TestPrivateUpstreamsAreRefusedByDefault(t *testing.T) {
	up := newRecordingUpstream(t)
	c := &connector.Connector{Name: "p", Slug: "p", URL: up.URL, Status: connector.StatusActive, Auth: connector.Auth{Kind: connector.AuthNone}}
	c.Normalize()
	p := New(connector.NewRegistry([]*connector.Connector{c}), nil, Options{CallTimeout: 5 * time.Second, IdleTimeout: time.Hour, MaxMessageBytes: 1 << 20}, zerolog.Nop())
	defer p.Close()
	_, _, err := p.Initialize(context.Background(), auth.Principal{User: "ada"}, "p", initMsg)
	if err == nil || !strings.Contains(err.Error(), "private or reserved range") {
		t.Fatalf("err = %v, want the SSRF refusal", err)
	}
}

func TestSensitiveConnectorsFollowTheCallersCurrentRoles(t *testing.T) {
	up := newRecordingUpstream(t)
	c := &connector.Connector{Name: "vault", Slug: "vault", URL: up.URL, Status: connector.StatusActive, Owner: "ada", Auth: connector.Auth{Kind: connector.AuthNone},
		Advanced: connector.Advanced{Sensitive: true, SensitiveRoles: []string{"security"}}}
	c.Normalize()
	roles := map[string][]string{"sam": {"security"}, "mia": {"member"}, "olga": {auth.RoleOwner}}
	var mu sync.Mutex
	refresh := func(p auth.Principal) auth.Principal {
		mu.Lock()
		defer mu.Unlock()
		p.Roles = append([]string(nil), roles[p.User]...)
		return p
	}
	p := New(connector.NewRegistry([]*connector.Connector{c}), nil, Options{CallTimeout: 10 * time.Second, IdleTimeout: time.Hour,
		AllowPrivateNetworks: true, MaxMessageBytes: 1 << 20, Refresh: refresh}, zerolog.Nop())
	t.Cleanup(p.Close)
	tests := []struct {
		user     string
		wantCode int
	}{
		{"sam", 0},                            // holds a selected role
		{"olga", 0},                           // owners see everything
		{"mia", mcp.CodeConnectorNotFound},    // a member without the role: it does not exist
		{"nobody", mcp.CodeConnectorNotFound}, // no roles at all
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			_, _, err := p.Initialize(context.Background(), refresh(auth.Principal{User: tc.user}), "vault", initMsg)
			var rpcErr *mcp.Error
			switch {
			case tc.wantCode == 0 && err != nil:
				t.Fatalf("err = %v", err)
			case tc.wantCode != 0 && (!errors.As(err, &rpcErr) || rpcErr.Code != tc.wantCode):
				t.Fatalf("err = %v, want code %d", err, tc.wantCode)
			}
		})
	}
	t.Run("losing the role closes the connector to a session already open", func(t *testing.T) {
		s, _, err := p.Initialize(context.Background(), refresh(auth.Principal{User: "sam"}), "vault", initMsg)
		if err != nil {
			t.Fatal(err)
		}
		ping := &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage("2"), Method: mcp.MethodPing}
		st, err := s.Call(context.Background(), ping)
		if err != nil {
			t.Fatalf("a call with the role: %v", err)
		}
		st.Close()
		mu.Lock()
		roles["sam"] = []string{"member"}
		mu.Unlock()
		var rpcErr *mcp.Error
		if _, err := s.Call(context.Background(), ping); !errors.As(err, &rpcErr) || rpcErr.Code != mcp.CodeConnectorNotFound {
			t.Errorf("a call after losing the role: %v", err)
		}
	})
}
