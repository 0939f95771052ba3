package proxy

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/upstreamtest"
)

func TestNameCaps(t *testing.T) {
	caps := Limits{NameMaxBytes: 8, URIMaxBytes: 16}
	long, fits := strings.Repeat("n", 9), strings.Repeat("n", 8)
	longURI, fitsURI := "file:///"+strings.Repeat("u", 9), "file:///"+strings.Repeat("u", 8)
	tests := []struct {
		name       string
		method     string
		params     string
		namespaced bool
		want       string // fragment of the refusal; "" for none
	}{
		{"a tool name at the cap passes", mcp.MethodToolsCall, `{"name":"` + fits + `"}`, false, ""},
		{"a tool name over the cap is refused", mcp.MethodToolsCall, `{"name":"` + long + `"}`, false, "the tool name is 9 bytes long, more than limits.name_max_bytes (8)"},
		{"any spelling of the member counts", mcp.MethodToolsCall, `{"name":"x","NAME":"` + long + `"}`, false, "limits.name_max_bytes"},
		{"escapes count as the bytes they stand for", mcp.MethodToolsCall, `{"name":"\u00e9\u00e9\u00e9\u00e9"}`, false, ""},
		{"on the aggregate the connector prefix does not count", mcp.MethodToolsCall, `{"name":"api__` + fits + `"}`, true, ""},
		{"on the aggregate the plain name is capped", mcp.MethodToolsCall, `{"name":"api__` + long + `"}`, true, "the tool name is 9 bytes long"},
		{"a prefix longer than any slug is no prefix", mcp.MethodToolsCall, `{"name":"` + strings.Repeat("s", 65) + `__x"}`, true, "the tool name is 68 bytes long"},
		{"a prompt name over the cap is refused", "prompts/get", `{"name":"` + long + `"}`, false, "the prompt name is 9 bytes"},
		{"a resource URI at the cap passes", "resources/read", `{"uri":"` + fitsURI + `"}`, false, ""},
		{"a resource URI over the cap is refused", "resources/read", `{"uri":"` + longURI + `"}`, false, "the resource URI is 17 bytes long, more than limits.uri_max_bytes (16)"},
		{"subscriptions are capped too", "resources/subscribe", `{"uri":"` + longURI + `"}`, false, "limits.uri_max_bytes"},
		{"a completion's prompt ref is capped", "completion/complete", `{"ref":{"type":"ref/prompt","name":"` + long + `"}}`, false, "the prompt name is 9 bytes"},
		{"a completion's resource ref is capped", "completion/complete", `{"Ref":{"type":"ref/resource","uri":"` + longURI + `"}}`, false, "limits.uri_max_bytes"},
		{"a name that is no string is not judged here", mcp.MethodToolsCall, `{"name":["` + long + `"]}`, false, ""},
		{"other methods are not judged", "tools/list", `{"name":"` + long + `"}`, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := upstreamtest.Request(t, 1, tc.method, tc.params)
			e := caps.nameError(req, tc.namespaced)
			switch {
			case tc.want == "" && e != nil:
				t.Fatalf("refused: %v", e)
			case tc.want != "" && (e == nil || e.Code != mcp.CodeInvalidParams || !strings.Contains(e.Message, tc.want)):
				t.Fatalf("got %v, want -32602 with %q", e, tc.want)
			}
		})
	}
	t.Run("no caps set: nothing is refused", func(t *testing.T) {
		if e := (Limits{}).nameError(upstreamtest.ToolCall(t, 1, strings.Repeat("n", 1<<16), `{}`), false); e != nil {
			t.Fatal(e)
		}
	})
}

// TestLongNamesAreRefusedBeforeTheyAreRecorded checks the caps apply on
// every path before the audit log (the call observer) sees the name.
func TestLongNamesAreRefusedBeforeTheyAreRecorded(t *testing.T) {
	up := newRecordingUpstream(t)
	var mu sync.Mutex
	var recorded []string
	opts := Options{Limits: Limits{NameMaxBytes: 16, URIMaxBytes: 64}, ObserveCall: func(_ context.Context, r CallRecord) error {
		mu.Lock()
		recorded = append(recorded, r.Tool)
		mu.Unlock()
		return nil
	}}
	p := newLimitedProxy(t, opts, httpConnector("api", up.URL))
	long := strings.Repeat("x", 1<<20)
	wantInvalid := func(t *testing.T, e error) {
		t.Helper()
		var rpcErr *mcp.Error
		if !errors.As(e, &rpcErr) || rpcErr.Code != mcp.CodeInvalidParams || !strings.Contains(rpcErr.Message, "limits.name_max_bytes (16)") {
			t.Fatalf("err = %v, want -32602 naming the cap", e)
		}
		if len(rpcErr.Message) > 200 {
			t.Errorf("the refusal carries %d bytes", len(rpcErr.Message))
		}
	}
	t.Run("a session", func(t *testing.T) {
		s := mustInit(t, p, ada, "api")
		_, err := s.Call(context.Background(), upstreamtest.ToolCall(t, 2, long, `{}`))
		wantInvalid(t, err)
		st, err := s.Call(upstreamtest.Guard(t), upstreamtest.ToolCall(t, 3, "short", `{}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lastMessage(upstreamtest.Guard(t), st); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the aggregate", func(t *testing.T) {
		agg, _, err := p.InitializeAggregate(context.Background(), ada, initMsg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = agg.Call(context.Background(), upstreamtest.ToolCall(t, 2, "api__"+long, `{}`))
		wantInvalid(t, err)
	})
	t.Run("a sessionless request", func(t *testing.T) {
		r := p.Sessionless(context.Background(), ada, "api", nil, upstreamtest.ToolCall(t, 2, long, `{}`), nil)
		if r.Err == nil {
			t.Fatal("admitted")
		}
		wantInvalid(t, r.Err)
	})
	t.Run("a sessionless request translated for a legacy upstream", func(t *testing.T) {
		req := upstreamtest.Request(t, 2, mcp.MethodToolsCall, `{"name":"`+long+`","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}`)
		st, err := p.Modern(context.Background(), ada, "api", req, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := lastMessage(upstreamtest.Guard(t), st)
		if err != nil {
			t.Fatal(err)
		}
		if m.Error == nil {
			t.Fatalf("answer %s", m.Bytes())
		}
		wantInvalid(t, m.Error)
	})
	mu.Lock()
	defer mu.Unlock()
	if len(recorded) != 1 || recorded[0] != "short" {
		t.Errorf("recorded %d calls, want only the short one", len(recorded))
	}
}

// listingGate is a ToolGate that knows which tools were listed.
type listingGate map[string]bool

func (g listingGate) FilterList(_ context.Context, _ *connector.Connector, resp *mcp.Message) (*mcp.Message, error) {
	return resp, nil
}

func (g listingGate) Held(context.Context, *connector.Connector, string) (string, bool) {
	return "", false
}

func (g listingGate) Listed(_ context.Context, _ *connector.Connector, tool string) bool {
	return g[tool]
}

func TestCallRecordsMarkToolsNeverListed(t *testing.T) {
	up := newRecordingUpstream(t)
	var mu sync.Mutex
	unlisted := map[string]bool{}
	p := newLimitedProxy(t, Options{Tools: listingGate{"known": true}, ObserveCall: func(_ context.Context, r CallRecord) error {
		mu.Lock()
		unlisted[r.Tool] = r.Unlisted
		mu.Unlock()
		return nil
	}}, httpConnector("api", up.URL))
	s := mustInit(t, p, ada, "api")
	for i, tool := range []string{"known", "made-up"} {
		st, err := s.Call(upstreamtest.Guard(t), upstreamtest.ToolCall(t, 2+i, tool, `{}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lastMessage(upstreamtest.Guard(t), st); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := map[string]bool{"known": false, "made-up": true}; !maps.Equal(unlisted, want) {
		t.Errorf("unlisted = %v, want %v", unlisted, want)
	}
}
