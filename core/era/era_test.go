package era

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

func parse(t *testing.T, s string) *mcp.Message {
	t.Helper()
	m, err := mcp.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return m
}

// pairs turns name, value, name, value… into the header iterator
// ReadHeader takes.
func pairs(kv ...string) func(func([]byte, []byte) bool) {
	return func(yield func([]byte, []byte) bool) {
		for i := 0; i+1 < len(kv); i += 2 {
			if !yield([]byte(kv[i]), []byte(kv[i+1])) {
				return
			}
		}
	}
}

const (
	initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}`
	modernCall = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
	plainList  = `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`
	response   = `{"jsonrpc":"2.0","id":4,"result":{}}`
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header Header
		body   string
		want   string
	}{
		{"a plain initialize is legacy", Header{}, initialize, "legacy"},
		{"initialize naming 2026-07-28 in the header is modern", hdr("Mcp-Protocol-Version", "2026-07-28"), initialize, "modern"},
		{"a request with a session is legacy", hdr("Mcp-Session-Id", "abc"), modernCall, "legacy"},
		{"a request without a session is modern", Header{}, plainList, "modern"},
		{"a sessionless request naming a legacy version is legacy (it lost its session)", hdr("mcp-protocol-version", "2025-06-18"), plainList, "legacy"},
		{"a response is legacy traffic", Header{}, response, "legacy"},
		{"a modern call is modern", hdr("Mcp-Protocol-Version", "2026-07-28"), modernCall, "modern"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Detect(tc.header, parse(t, tc.body)).Name(); got != tc.want {
				t.Fatalf("Detect = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		name     string
		check    func(Header, *mcp.Message) *mcp.Error
		header   Header
		body     string
		wantCode int // 0: no error
		wantText string
	}{
		{"matching headers pass", CheckHeaders, hdr("Mcp-Method", "tools/call", "Mcp-Name", "echo"), modernCall, 0, ""},
		{"headers are compared without surrounding space", CheckHeaders, hdr("mcp-method", " tools/call\t"), modernCall, 0, ""},
		{"no headers pass the agreement check", CheckHeaders, Header{}, modernCall, 0, ""},
		{"a method header that disagrees is refused", CheckHeaders, hdr("Mcp-Method", "tools/list"), modernCall, mcp.CodeHeaderMismatch, "Mcp-Method"},
		{"a name header that disagrees is refused", CheckHeaders, hdr("Mcp-Name", "other"), modernCall, mcp.CodeHeaderMismatch, "Mcp-Name"},
		{"a session may name a legacy version", Legacy{}.Check, hdr("Mcp-Protocol-Version", "2025-11-25"), plainList, 0, ""},
		{"a session may not name 2026-07-28", Legacy{}.Check, hdr("Mcp-Protocol-Version", "2026-07-28"), plainList, mcp.CodeInvalidRequest, "for a session"},
		{"a modern request with its headers passes", Modern{}.Check, hdr("Mcp-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", "echo"), modernCall, 0, ""},
		{"a version header that disagrees with _meta is refused", Modern{}.Check, hdr("Mcp-Protocol-Version", "2025-11-25", "Mcp-Method", "tools/call", "Mcp-Name", "echo"), modernCall, mcp.CodeHeaderMismatch, "_meta protocolVersion"},
		{"no Mcp-Method with a version is a header mismatch", Modern{}.Check, hdr("Mcp-Protocol-Version", "2026-07-28"), plainList, mcp.CodeHeaderMismatch, "Mcp-Method header is required"},
		{"no Mcp-Method and no version says a session is missing", Modern{}.Check, Header{}, plainList, mcp.CodeInvalidRequest, "no Mcp-Session-Id"},
		{"a named tool needs Mcp-Name", Modern{}.Check, hdr("Mcp-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call"), modernCall, mcp.CodeHeaderMismatch, "Mcp-Name header is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.check(tc.header, parse(t, tc.body))
			switch {
			case tc.wantCode == 0 && e != nil:
				t.Fatalf("refused: %v", e)
			case tc.wantCode != 0 && (e == nil || e.Code != tc.wantCode || !strings.Contains(e.Message, tc.wantText)):
				t.Fatalf("got %v, want code %d mentioning %q", e, tc.wantCode, tc.wantText)
			}
		})
	}
}

func TestMethodsAndStatuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		era    Adapter
		method string
		has    bool
	}{
		{"legacy has initialize", Legacy{}, mcp.MethodInitialize, true},
		{"legacy has no server/discover", Legacy{}, mcp.MethodServerDiscover, false},
		{"legacy has no subscriptions/listen", Legacy{}, mcp.MethodSubscriptionsListen, false},
		{"modern has no initialize", Modern{}, mcp.MethodInitialize, false},
		{"modern has no ping", Modern{}, mcp.MethodPing, false},
		{"modern has no logging/setLevel", Modern{}, mcp.MethodLoggingSetLevel, false},
		{"modern has no resources/subscribe", Modern{}, mcp.MethodResourcesSubscribe, false},
		{"modern has server/discover", Modern{}, mcp.MethodServerDiscover, true},
		{"both have tools/call", Modern{}, mcp.MethodToolsCall, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.era.Has(tc.method); got != tc.has {
				t.Fatalf("Has(%s) = %v", tc.method, got)
			}
		})
	}
	for _, tc := range []struct {
		name string
		era  Adapter
		code int
		want int
	}{
		{"legacy: a missing connector is 404", Legacy{}, mcp.CodeConnectorNotFound, http.StatusNotFound},
		{"legacy: a policy denial is 200", Legacy{}, mcp.CodePolicyDenied, http.StatusOK},
		{"legacy: invalid params are 200", Legacy{}, mcp.CodeInvalidParams, http.StatusOK},
		{"modern: an unknown method is 404", Modern{}, mcp.CodeMethodNotFound, http.StatusNotFound},
		{"modern: a missing connector is 404", Modern{}, mcp.CodeConnectorNotFound, http.StatusNotFound},
		{"modern: a header mismatch is 400", Modern{}, mcp.CodeHeaderMismatch, http.StatusBadRequest},
		{"modern: an unsupported version is 400", Modern{}, CodeUnsupportedProtocolVersion, http.StatusBadRequest},
		{"modern: a missing capability is 400", Modern{}, CodeMissingClientCapability, http.StatusBadRequest},
		{"modern: a policy denial is 200", Modern{}, mcp.CodePolicyDenied, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.era.Status(mcp.NewError(tc.code, "x")); got != tc.want {
				t.Fatalf("Status(%d) = %d, want %d", tc.code, got, tc.want)
			}
		})
	}
}

func TestVersions(t *testing.T) {
	if !(Legacy{}).Speaks(mcp.Version20251125) || (Legacy{}).Speaks(mcp.Version20260728) {
		t.Fatal("legacy speaks the revisions up to 2025-11-25 only")
	}
	if !(Modern{}).Speaks(mcp.Version20260728) || (Modern{}).Speaks(mcp.Version20251125) {
		t.Fatal("modern speaks 2026-07-28 only")
	}
}

func TestMeta(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     string
		wantCode int
	}{
		{"a complete _meta passes", modernCall, 0},
		{"no _meta is invalid params", plainList, mcp.CodeInvalidParams},
		{"no version is invalid params", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{}}}}`, mcp.CodeInvalidParams},
		{"an unknown version is unsupported", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2030-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}`, CodeUnsupportedProtocolVersion},
		{"no capabilities is invalid params", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`, mcp.CodeInvalidParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			meta, e := Modern{}.Meta(parse(t, tc.body))
			switch {
			case tc.wantCode == 0 && (e != nil || meta[mcp.MetaClientCapabilities] == nil):
				t.Fatalf("refused or lost the capabilities: %v", e)
			case tc.wantCode != 0 && (e == nil || e.Code != tc.wantCode):
				t.Fatalf("got %v, want code %d", e, tc.wantCode)
			}
		})
	}
}

func hdr(kv ...string) Header { return ReadHeader(pairs(kv...)) }

func TestHeader(t *testing.T) {
	h := ReadHeader(pairs("Content-Type", "application/json", "Mcp-Session-Id", "s1", "MCP-Protocol-Version", " 2026-07-28 ",
		"mcp-method", "tools/call", "Mcp-Name", "echo", "Mcp-Param-Region", "eu", "Authorization", "Bearer x"))
	if h.SessionID() != "s1" || h.Version() != "2026-07-28" || h.Method() != "tools/call" || h.Name() != "echo" {
		t.Fatalf("read %+v: names are case-insensitive, values trimmed", h)
	}
	fwd := h.Forward()
	if _, ok := fwd[mcp.HeaderSessionID]; ok || len(fwd) != 4 || fwd["Mcp-Param-Region"] != "eu" || fwd[mcp.HeaderMethod] != "tools/call" {
		t.Fatalf("Forward = %v, want all but the session id (and nothing else)", fwd)
	}
	if p := h.Params(); len(p) != 1 || p["region"] != "eu" {
		t.Fatalf("Params = %v, want region=eu", p)
	}
	if last := hdr("Mcp-Method", "tools/list", "Mcp-Method", "tools/call"); last.Method() != "tools/call" || last.Forward()[mcp.HeaderMethod] != "tools/call" {
		t.Fatal("a repeated header must count with the same (last) value for the check and the forwarding")
	}
	if none := ReadHeader(pairs("Accept", "*/*")); none.Forward() == nil || len(none.Forward()) != 0 || none.Params() != nil {
		t.Fatal("no era headers forward nothing")
	}
}

func TestProbes(t *testing.T) {
	p := NewProbes()
	calls := 0
	unreachable := func(context.Context) Upstream { calls++; return Upstream{} }
	modern := func(context.Context) Upstream {
		calls++
		return Upstream{Era: Modern{}, Versions: []string{mcp.Version20260728, mcp.Version20251125}}
	}
	if u, fresh := p.Of(context.Background(), "a", unreachable); u.Era != nil || fresh {
		t.Fatal("an unreachable upstream has no era and is not cached")
	}
	if u, fresh := p.Of(context.Background(), "a", modern); !fresh || !u.DualEra() {
		t.Fatalf("the second probe should tell a dual-era upstream: %+v", u)
	}
	if _, fresh := p.Of(context.Background(), "a", modern); fresh || calls != 2 {
		t.Fatalf("a known era is not probed again (probes: %d)", calls)
	}
	p.Forget("a")
	if _, fresh := p.Of(context.Background(), "a", modern); !fresh || calls != 3 {
		t.Fatalf("a forgotten era is probed again (probes: %d)", calls)
	}
}
