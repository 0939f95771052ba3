package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/offload"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/upstreamtest"
)

// bigOutput is what the dump tool of bigUpstream answers: 200 000 bytes.
var bigOutput = strings.Repeat("0123456789", 20000)

// bigUpstream is a dual-era upstream (initialize and server/discover)
// with no resources, whose tool dump answers bigOutput.
func bigUpstream(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msg, err := mcp.Parse(body)
		if err != nil || msg.Kind() != mcp.KindRequest {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		var res any
		switch msg.Method {
		case mcp.MethodInitialize:
			res = map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{"tools": map[string]any{}}, "serverInfo": map[string]any{"name": "big", "version": "1"}}
		case mcp.MethodServerDiscover:
			res = map[string]any{"supportedVersions": []string{"2026-07-28"}, "capabilities": map[string]any{"tools": map[string]any{}}}
		case mcp.MethodToolsCall:
			res = map[string]any{"content": []any{map[string]any{"type": "text", "text": bigOutput}}}
		default:
			raw, _ := json.Marshal(mcp.NewErrorResponse(msg.ID, mcp.NewError(mcp.CodeMethodNotFound, "no such method")))
			w.Write(raw)
			return
		}
		m, _ := mcp.NewResult(msg.ID, res)
		w.Write(m.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// seenGuard records the size of every answer it is shown.
type seenGuard struct {
	mu   sync.Mutex
	seen []int
}

func (g *seenGuard) GuardAnswer(_ context.Context, _ *connector.Connector, _, resp *mcp.Message, _ *toolguard.Reading) (*mcp.Message, toolguard.Outcome) {
	g.mu.Lock()
	g.seen = append(g.seen, len(resp.Result))
	g.mu.Unlock()
	return resp, toolguard.Outcome{}
}

func newTestOffloader(t *testing.T) *offload.Offloader {
	box, err := secret.New(bytes.Repeat([]byte{3}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenInMemory(box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	o, err := offload.New(context.Background(), offload.Config{}, st.Offloads(), offload.Options{}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// linkOf returns the offload URI a tools/call result links to.
func linkOf(t *testing.T, result json.RawMessage) string {
	t.Helper()
	var r struct {
		Content []struct{ Type, Text, URI string }
	}
	if err := json.Unmarshal(result, &r); err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Content {
		if c.Type == "resource_link" && offload.IsURI(c.URI) {
			return c.URI
		}
	}
	t.Fatalf("no offload link in %.300s", result)
	return ""
}

func readText(t *testing.T, result json.RawMessage) string {
	t.Helper()
	var r struct {
		Contents []struct{ Text string }
	}
	if err := json.Unmarshal(result, &r); err != nil || len(r.Contents) != 1 {
		t.Fatalf("read result %.300s: %v", result, err)
	}
	return r.Contents[0].Text
}

func modernRequest(t *testing.T, id int, method, params string) *mcp.Message {
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`
	if params != "{}" {
		meta = "," + meta
	}
	return upstreamtest.Request(t, id, method, strings.TrimSuffix(params, "}")+meta)
}

func TestOffloadOnTheSessionlessPassthrough(t *testing.T) {
	up := bigUpstream(t)
	guard := &seenGuard{}
	var recs []CallRecord
	p := newLimitedProxy(t, Options{Offload: newTestOffloader(t), Guard: guard,
		ObserveCall: func(_ context.Context, r CallRecord) error { recs = append(recs, r); return nil }}, httpConnector("api", up.URL))
	run := func(who auth.Principal, req *mcp.Message) *mcp.Message {
		t.Helper()
		conn, ok, err := p.ModernUpstream(upstreamtest.Guard(t), who, "api")
		if err != nil || !ok {
			t.Fatalf("modern upstream: %v %v", ok, err)
		}
		r := p.Sessionless(upstreamtest.Guard(t), who, "api", conn, req, nil)
		if r.Err != nil {
			return mcp.NewErrorResponse(req.ID, r.Err)
		}
		m, perr := mcp.Parse(r.Body)
		if perr != nil {
			t.Fatalf("reply %d %.200s: %v", r.Status, r.Body, perr)
		}
		return m
	}
	m := run(ada, modernRequest(t, 1, mcp.MethodToolsCall, `{"name":"dump","arguments":{}}`))
	uri := linkOf(t, m.Result)
	t.Run("the answer guards saw the whole output, the client a preview", func(t *testing.T) {
		if len(guard.seen) != 1 || guard.seen[0] < len(bigOutput) || len(m.Result) > 4096 {
			t.Fatalf("guard saw %v bytes, client got %d", guard.seen, len(m.Result))
		}
	})
	t.Run("the audit record names the stored output", func(t *testing.T) {
		if len(recs) != 1 || len(recs[0].Offloaded) != 1 || recs[0].Offloaded[0].Bytes != int64(len(bigOutput)) || !strings.HasSuffix(uri, recs[0].Offloaded[0].ID) {
			t.Fatalf("records %+v", recs)
		}
	})
	t.Run("the caller reads it back identical, in the 2026-07-28 shape", func(t *testing.T) {
		r := run(ada, modernRequest(t, 2, "resources/read", `{"uri":"`+uri+`"}`))
		if r.Error != nil || readText(t, r.Result) != bigOutput || !bytes.Contains(r.Result, []byte(`"resultType":"complete"`)) {
			t.Fatalf("read %v %.200s", r.Error, r.Result)
		}
	})
	t.Run("another user is told not found (-32602)", func(t *testing.T) {
		r := run(bob, modernRequest(t, 3, "resources/read", `{"uri":"`+uri+`"}`))
		if r.Error == nil || r.Error.Code != mcp.CodeInvalidParams || !strings.Contains(r.Error.Message, "not found") {
			t.Fatalf("bob's read: %+v", r)
		}
	})
	t.Run("server/discover advertises resources", func(t *testing.T) {
		r := run(ada, modernRequest(t, 4, mcp.MethodServerDiscover, `{}`))
		if !bytes.Contains(r.Result, []byte(`"resources":{}`)) {
			t.Fatalf("discover %s", r.Result)
		}
	})
	t.Run("resources/list answers an empty list for an upstream without resources", func(t *testing.T) {
		r := run(ada, modernRequest(t, 5, "resources/list", `{}`))
		if r.Error != nil || !bytes.Contains(r.Result, []byte(`"resources":[]`)) {
			t.Fatalf("list %+v %s", r.Error, r.Result)
		}
	})
}

func TestOffloadOnALegacySession(t *testing.T) {
	up := bigUpstream(t)
	c := httpConnector("api", up.URL)
	c.Advanced.UpstreamEra = "legacy"
	off := httpConnector("raw", up.URL)
	no := false
	off.Advanced.UpstreamEra, off.Advanced.OffloadOutput = "legacy", &no
	p := newLimitedProxy(t, Options{Offload: newTestOffloader(t)}, c, off)
	ctx := upstreamtest.Guard(t)
	open := func(who auth.Principal, slug string) (*Session, *mcp.Message) {
		t.Helper()
		init := upstreamtest.Request(t, 0, mcp.MethodInitialize, `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`)
		s, resp, err := p.Initialize(ctx, who, slug, init)
		if err != nil || s == nil {
			t.Fatalf("initialize: %v %+v", err, resp)
		}
		return s, resp
	}
	call := func(s *Session, req *mcp.Message) *mcp.Message {
		t.Helper()
		st, err := s.Call(ctx, req)
		if err != nil {
			var rpcErr *mcp.Error
			if !errors.As(err, &rpcErr) {
				t.Fatal(err)
			}
			return mcp.NewErrorResponse(req.ID, rpcErr)
		}
		defer st.Close()
		msgs, err := upstreamtest.Collect(t, st)
		if err != nil || len(msgs) == 0 {
			t.Fatalf("collect: %v (%d messages)", err, len(msgs))
		}
		return msgs[len(msgs)-1]
	}
	s, resp := open(ada, "api")
	t.Run("initialize advertises resources the upstream lacks", func(t *testing.T) {
		if !bytes.Contains(resp.Bytes(), []byte(`"resources":{}`)) {
			t.Fatalf("initialize %s", resp.Bytes())
		}
	})
	m := call(s, upstreamtest.ToolCall(t, 1, "dump", `{}`))
	uri := linkOf(t, m.Result)
	t.Run("the caller reads it back identical, in ranges", func(t *testing.T) {
		var got strings.Builder
		next := uri + "?length=65536"
		for i := 0; next != "" && i < 10; i++ {
			r := call(s, upstreamtest.Request(t, 10+i, "resources/read", `{"uri":"`+next+`"}`))
			if r.Error != nil || bytes.Contains(r.Result, []byte("resultType")) {
				t.Fatalf("read %s: %+v %.200s", next, r.Error, r.Result)
			}
			got.WriteString(readText(t, r.Result))
			var meta struct {
				Meta map[string]struct{ Next string } `json:"_meta"`
			}
			_ = json.Unmarshal(r.Result, &meta)
			next = meta.Meta[offload.MetaKey].Next
		}
		if got.String() != bigOutput {
			t.Fatalf("read back %d bytes, want %d identical", got.Len(), len(bigOutput))
		}
	})
	t.Run("another user's session is told not found (-32002)", func(t *testing.T) {
		sb, _ := open(bob, "api")
		r := call(sb, upstreamtest.Request(t, 30, "resources/read", `{"uri":"`+uri+`"}`))
		if r.Error == nil || r.Error.Code != offload.CodeResourceNotFoundLegacy {
			t.Fatalf("bob's read: %+v", r)
		}
	})
	t.Run("a connector that switches offloading off relays the output whole", func(t *testing.T) {
		so, resp := open(ada, "raw")
		if bytes.Contains(resp.Bytes(), []byte(`"resources"`)) {
			t.Errorf("initialize advertises resources: %s", resp.Bytes())
		}
		r := call(so, upstreamtest.ToolCall(t, 40, "dump", `{}`))
		if !bytes.Contains(r.Result, []byte(bigOutput)) {
			t.Fatalf("result of %d bytes is not the whole output", len(r.Result))
		}
	})
}

func TestModernErrorRenumbersResourceNotFound(t *testing.T) {
	tests := []struct {
		name     string
		in, want int
	}{
		{"the legacy resource-not-found code becomes -32602", offload.CodeResourceNotFoundLegacy, mcp.CodeInvalidParams},
		{"other codes stay", mcp.CodePolicyDenied, mcp.CodePolicyDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mcp.NewError(tt.in, "m")
			if got := modernError(in); got.Code != tt.want || got.Message != "m" || in.Code != tt.in {
				t.Fatalf("got %+v (input now %+v), want code %d", got, in, tt.want)
			}
		})
	}
}
