package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/upstreamtest"
)

// echoserver is the path of the STDIO fixture built by TestMain.
var echoserver string

func TestMain(m *testing.M) { upstreamtest.RunWithEchoserver(m, &echoserver) }

var (
	ada   = auth.Principal{User: "ada"}
	bob   = auth.Principal{User: "bob"}
	carol = auth.Principal{User: "carol"}
)

func httpConnector(slug, url string) *connector.Connector {
	return &connector.Connector{Name: slug, Slug: slug, URL: url, Status: connector.StatusActive, Auth: connector.Auth{Kind: connector.AuthNone}}
}

func stdioConnector(slug string) *connector.Connector {
	return &connector.Connector{Name: slug, Slug: slug, Transport: connector.TransportSTDIO, Command: echoserver, Status: connector.StatusActive}
}

// newLimitedProxy is a test proxy with limits (and opts' other fields).
func newLimitedProxy(t *testing.T, opts Options, conns ...*connector.Connector) *Proxy {
	t.Helper()
	for _, c := range conns {
		c.Normalize()
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	opts.CallTimeout, opts.IdleTimeout, opts.AllowPrivateNetworks, opts.MaxMessageBytes = 10*time.Second, time.Hour, true, 1<<20
	p := New(connector.NewRegistry(conns), nil, opts, zerolog.Nop())
	t.Cleanup(p.Close)
	return p
}

func mustInit(t *testing.T, p *Proxy, who auth.Principal, slug string) *Session {
	t.Helper()
	s, resp, err := p.Initialize(upstreamtest.Guard(t), who, slug, initMsg)
	if err != nil || s == nil || resp.Error != nil {
		t.Fatalf("initialize %s as %s: %v %v", slug, who.User, err, resp)
	}
	return s
}

// wantLimit checks err is the limit error naming key and its value.
func wantLimit(t *testing.T, err error, key string, value int, fragment string) {
	t.Helper()
	var rpcErr *mcp.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != mcp.CodeLimitReached {
		t.Fatalf("err = %v, want -31059", err)
	}
	if want := fmt.Sprintf("limits.%s is %d,", key, value); !strings.Contains(rpcErr.Message, want) || !strings.Contains(rpcErr.Message, fragment) {
		t.Errorf("message %q lacks %q or %q", rpcErr.Message, want, fragment)
	}
	var data struct {
		Limit string `json:"limit"`
		Value int    `json:"value"`
	}
	if json.Unmarshal(rpcErr.Data, &data) != nil || data.Limit != key || data.Value != value {
		t.Errorf("data = %s, want limit %s value %d", rpcErr.Data, key, value)
	}
}

func alive(p *Proxy, s *Session) bool {
	_, err := p.Session(s.ID, auth.Principal{User: s.User})
	return err == nil
}

// count is how many of r user and connector slug hold now.
func count(p *Proxy, r resource, user, slug string) (byUser, byConn int) {
	p.limits.mu.Lock()
	defer p.limits.mu.Unlock()
	return p.limits.byUser[r][user], p.limits.byConn[r][slug]
}

func ping(id int) *mcp.Message {
	return &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(fmt.Sprint(id)), Method: mcp.MethodPing}
}

func TestSessionLimits(t *testing.T) {
	up := newRecordingUpstream(t)
	t.Run("past sessions_per_user the least recently used idle session makes room; busy ones are kept and the new one refused", func(t *testing.T) {
		p := newLimitedProxy(t, Options{Limits: Limits{SessionsPerUser: 2}}, httpConnector("api", up.URL), httpConnector("other", up.URL))
		first := mustInit(t, p, ada, "api")
		second := mustInit(t, p, ada, "other")
		third := mustInit(t, p, ada, "api") // a client that never sends DELETE keeps working
		if alive(p, first) || !alive(p, second) || !alive(p, third) {
			t.Fatalf("alive: first %v, second %v, third %v; want only the least recently used closed", alive(p, first), alive(p, second), alive(p, third))
		}
		end2, err := second.begin()
		if err != nil {
			t.Fatal(err)
		}
		end3, err := third.begin()
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = p.Initialize(context.Background(), ada, "api", initMsg)
		wantLimit(t, err, "sessions_per_user", 2, "you have that many sessions open")
		if !alive(p, second) || !alive(p, third) {
			t.Error("a busy session was closed to make room")
		}
		mustInit(t, p, bob, "api") // another user's budget is their own
		end2()
		end3()
		mustInit(t, p, ada, "api") // an idle one makes room again
		if user, _ := count(p, sessions, "ada", "api"); user != 2 {
			t.Errorf("ada holds %d sessions, want 2", user)
		}
	})
	t.Run("an aggregate session counts once for its user, its children not at all", func(t *testing.T) {
		p := newLimitedProxy(t, Options{Limits: Limits{SessionsPerUser: 2}}, httpConnector("api", up.URL))
		agg, _, err := p.InitializeAggregate(context.Background(), ada, initMsg)
		if err != nil {
			t.Fatal(err)
		}
		st, err := agg.Call(upstreamtest.Guard(t), upstreamtest.Request(t, 2, mcp.MethodToolsList, ""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lastMessage(upstreamtest.Guard(t), st); err != nil {
			t.Fatal(err)
		}
		if _, conn := count(p, sessions, "ada", "api"); conn != 1 {
			t.Fatalf("the aggregate's child holds %d sessions of the connector, want 1", conn)
		}
		direct := mustInit(t, p, ada, "api")
		endAgg, _ := agg.begin()
		endDirect, _ := direct.begin()
		_, _, err = p.InitializeAggregate(context.Background(), ada, initMsg)
		wantLimit(t, err, "sessions_per_user", 2, "sessions open")
		endAgg()
		endDirect()
		p.CloseSession(agg.ID)
		if user, conn := count(p, sessions, "ada", "api"); user != 1 || conn != 1 {
			t.Errorf("after closing the aggregate: %d user sessions, %d on the connector; want 1 and 1", user, conn)
		}
	})
	t.Run("sessions beyond sessions_per_connector are refused whoever asks", func(t *testing.T) {
		p := newLimitedProxy(t, Options{Limits: Limits{SessionsPerConnector: 2}}, httpConnector("api", up.URL), httpConnector("other", up.URL))
		mustInit(t, p, ada, "api")
		mustInit(t, p, bob, "api")
		_, _, err := p.Initialize(context.Background(), carol, "api", initMsg)
		wantLimit(t, err, "sessions_per_connector", 2, `connector "api" has that many sessions open`)
		mustInit(t, p, carol, "other")
	})
	t.Run("a failed initialize gives its places back", func(t *testing.T) {
		refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			msg, _ := mcp.Parse(body)
			w.Header().Set("Content-Type", "application/json")
			if msg == nil || msg.Method != mcp.MethodInitialize {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"error":{"code":-32603,"message":"no"}}`)
		}))
		defer refusing.Close()
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		p := newLimitedProxy(t, Options{Limits: Limits{SessionsPerUser: 1, SessionsPerConnector: 1}},
			httpConnector("api", up.URL), httpConnector("refusing", refusing.URL), httpConnector("gone", gone.URL))
		for range 3 {
			if s, resp, err := p.Initialize(context.Background(), ada, "refusing", initMsg); err != nil || s != nil || resp.Error == nil {
				t.Fatalf("initialize refusing: %v %v %v", s, resp, err)
			}
			if _, _, err := p.Initialize(context.Background(), ada, "gone", initMsg); err == nil {
				t.Fatal("initialize of an unreachable upstream succeeded")
			}
		}
		mustInit(t, p, ada, "api")
		if user, conn := count(p, sessions, "ada", "refusing"); user != 1 || conn != 0 {
			t.Errorf("%d user sessions (want 1), %d on the refusing connector (want 0)", user, conn)
		}
	})
	t.Run("the gateway's own sessions are not counted", func(t *testing.T) {
		p := newLimitedProxy(t, Options{Limits: Limits{SessionsPerUser: 1, SessionsPerConnector: 1}}, httpConnector("api", up.URL))
		for range 3 {
			mustInit(t, p, scanner(), "api")
		}
		mustInit(t, p, ada, "api")
	})
}

func TestSTDIOProcessLimits(t *testing.T) {
	t.Run("the least recently used idle session of the same user and connector makes room", func(t *testing.T) {
		p := newLimitedProxy(t, Options{Limits: Limits{STDIOPerUser: 2}}, stdioConnector("echo"))
		s1 := mustInit(t, p, ada, "echo")
		s2 := mustInit(t, p, ada, "echo")
		st, err := s1.Call(upstreamtest.Guard(t), ping(2)) // s1 is now the more recently used
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lastMessage(upstreamtest.Guard(t), st); err != nil {
			t.Fatal(err)
		}
		s3 := mustInit(t, p, ada, "echo")
		if alive(p, s2) || !alive(p, s1) || !alive(p, s3) {
			t.Errorf("alive: s1 %v, s2 %v, s3 %v; want s2 closed only", alive(p, s1), alive(p, s2), alive(p, s3))
		}
		if user, conn := count(p, processes, "ada", "echo"); user != 2 || conn != 2 {
			t.Errorf("%d processes for ada, %d for echo; want 2 and 2", user, conn)
		}
	})
	t.Run("a session with a request in flight is not closed: the limit refuses", func(t *testing.T) {
		p := newLimitedProxy(t, Options{Limits: Limits{STDIOPerUser: 1}}, stdioConnector("echo"))
		s1 := mustInit(t, p, ada, "echo")
		st, err := s1.Call(upstreamtest.Guard(t), upstreamtest.ToolCall(t, 2, "hang", `{}`))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = p.Initialize(context.Background(), ada, "echo", initMsg)
		wantLimit(t, err, "stdio_processes_per_user", 1, "you have that many STDIO processes running")
		st.Close()
		mustInit(t, p, ada, "echo")
		if alive(p, s1) {
			t.Error("the session idle again was not closed to make room")
		}
	})
	t.Run("another user's sessions are never closed", func(t *testing.T) {
		p := newLimitedProxy(t, Options{Limits: Limits{STDIOPerConnector: 1}}, stdioConnector("echo"))
		s1 := mustInit(t, p, ada, "echo")
		_, _, err := p.Initialize(context.Background(), bob, "echo", initMsg)
		wantLimit(t, err, "stdio_processes_per_connector", 1, `connector "echo" has that many STDIO processes running`)
		if !alive(p, s1) {
			t.Error("bob's initialize closed ada's session")
		}
	})
	t.Run("a session limit on a STDIO connector makes room the same way", func(t *testing.T) {
		p := newLimitedProxy(t, Options{Limits: Limits{SessionsPerUser: 1}}, stdioConnector("echo"))
		s1 := mustInit(t, p, ada, "echo")
		mustInit(t, p, ada, "echo")
		if alive(p, s1) {
			t.Error("the idle session was not closed to make room")
		}
	})
	t.Run("an aggregate's idle child makes room and is reopened on next use", func(t *testing.T) {
		p := newLimitedProxy(t, Options{Limits: Limits{STDIOPerUser: 1}}, stdioConnector("echo"))
		agg, _, err := p.InitializeAggregate(context.Background(), ada, initMsg)
		if err != nil {
			t.Fatal(err)
		}
		a := agg.backend.(*aggregate)
		if _, err := a.child(upstreamtest.Guard(t), "echo"); err != nil {
			t.Fatal(err)
		}
		direct := mustInit(t, p, ada, "echo")
		if a.childOn("echo") != nil {
			t.Fatal("the aggregate's idle child was not closed to make room")
		}
		st, err := agg.Call(upstreamtest.Guard(t), upstreamtest.ToolCall(t, 3, "echo__echo", `{"message":"hi"}`))
		if err != nil {
			t.Fatal(err)
		}
		if m, err := lastMessage(upstreamtest.Guard(t), st); err != nil || m.Error != nil {
			t.Fatalf("a call through the aggregate after its child was closed: %v %v", m, err)
		}
		if alive(p, direct) {
			t.Error("the reopened child did not make room in turn")
		}
	})
	t.Run("a closed session's process gives its place back", func(t *testing.T) {
		p := newLimitedProxy(t, Options{Limits: Limits{STDIOPerUser: 1}}, stdioConnector("echo"))
		p.CloseSession(mustInit(t, p, ada, "echo").ID)
		if user, conn := count(p, processes, "ada", "echo"); user != 0 || conn != 0 {
			t.Errorf("%d processes for ada, %d for echo after close; want 0", user, conn)
		}
	})
}

func TestInflightLimits(t *testing.T) {
	up := newRecordingUpstream(t)
	conns := func() []*connector.Connector {
		return []*connector.Connector{httpConnector("api", up.URL), httpConnector("other", up.URL)}
	}
	t.Run("a user's requests beyond inflight_per_user wait for one to end", func(t *testing.T) {
		p := newLimitedProxy(t, Options{Limits: Limits{InflightPerUser: 1}}, conns()...)
		s1, s2, sb := mustInit(t, p, ada, "api"), mustInit(t, p, ada, "other"), mustInit(t, p, bob, "api")
		st, err := s1.Call(context.Background(), ping(2))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s2.Call(context.Background(), ping(3))
		wantLimit(t, err, "inflight_per_user", 1, "you have that many requests in flight")
		if st2, err := sb.Call(context.Background(), ping(4)); err != nil {
			t.Errorf("another user's request: %v", err)
		} else {
			st2.Close()
		}
		st.Close()
		if st, err = s2.Call(context.Background(), ping(5)); err != nil {
			t.Fatalf("a request after the first ended: %v", err)
		}
		st.Close()
	})
	t.Run("requests beyond inflight_per_connector wait whoever sends them", func(t *testing.T) {
		p := newLimitedProxy(t, Options{Limits: Limits{InflightPerConnector: 1}}, conns()...)
		st, err := mustInit(t, p, ada, "api").Call(context.Background(), ping(2))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		_, err = mustInit(t, p, bob, "api").Call(context.Background(), ping(3))
		wantLimit(t, err, "inflight_per_connector", 1, `connector "api" has that many requests in flight`)
		if st2, err := mustInit(t, p, bob, "other").Call(context.Background(), ping(4)); err != nil {
			t.Errorf("a request to another connector: %v", err)
		} else {
			st2.Close()
		}
	})
	t.Run("sessionless requests count too, and ending one twice frees one place", func(t *testing.T) {
		p := newLimitedProxy(t, Options{Limits: Limits{InflightPerUser: 2}}, conns()...)
		end1, rpcErr := p.Begin(ada, "api")
		if rpcErr != nil {
			t.Fatal(rpcErr)
		}
		end1()
		end1()
		if _, rpcErr := p.Begin(ada, "api"); rpcErr != nil {
			t.Fatal(rpcErr)
		}
		if _, rpcErr := p.Begin(ada, "other"); rpcErr != nil {
			t.Fatal(rpcErr)
		}
		_, rpcErr = p.Begin(ada, "api")
		wantLimit(t, rpcErr, "inflight_per_user", 2, "requests in flight")
	})
}

func TestRelayTellsAPlainJSONAnswer(t *testing.T) {
	up := newRecordingUpstream(t)
	p := newLimitedProxy(t, Options{Limits: Limits{InflightPerUser: 1}}, httpConnector("api", up.URL))
	var framing upstream.Framing
	if framing.JSON() {
		t.Fatal("a fresh framing says JSON before any upstream answered")
	}
	st, err := mustInit(t, p, ada, "api").Relay(upstreamtest.Guard(t), ping(2), &framing)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Next(upstreamtest.Guard(t)); err != nil {
		t.Fatal(err)
	}
	if !framing.JSON() {
		t.Error("the upstream's plain JSON answer is not told through the request's framing (counted and chain wrappers between)")
	}
}
