package toolsearch

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// FuzzMetaCalls: whatever a client sends as a meta-tool call's params,
// parsing either succeeds or returns an ArgumentError (a tool error for
// the client), never panics; a search of any query over a small index
// answers at most the limit, best first.
func FuzzMetaCalls(f *testing.F) {
	for _, seed := range []string{
		`{"name":"search_tools","arguments":{"query":"send mail","limit":3}}`,
		`{"name":"call_tool","arguments":{"name":"a__echo","arguments":{"x":1}},"_meta":{"progressToken":1}}`,
		`{"arguments":null}`, `[]`, `"x"`, `{"arguments":{"query":"\u0000ÀÉ getUser HTTPServer"}}`,
	} {
		f.Add(seed)
	}
	ix := Build([]Tool{tool("a__echo", "Echo a message"), tool("b__getUser", "Get a user"), tool("c__send_mail", "Send mail", "to")})
	f.Fuzz(func(t *testing.T, params string) {
		var bad *ArgumentError
		args, err := ParseSearch(json.RawMessage(params))
		if err != nil && !errors.As(err, &bad) {
			t.Fatalf("ParseSearch: %v is no ArgumentError", err)
		}
		if err == nil {
			hits := ix.Search(args.Query, args.Limit)
			if len(hits) > args.Limit {
				t.Fatalf("%d hits for limit %d", len(hits), args.Limit)
			}
			for i := 1; i < len(hits); i++ {
				if hits[i].Score > hits[i-1].Score {
					t.Fatalf("not best first: %v", hits)
				}
			}
		}
		req := &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(`1`), Method: mcp.MethodToolsCall, Params: json.RawMessage(params)}
		if _, err := RealCall(req); err != nil && !errors.As(err, &bad) {
			t.Fatalf("RealCall: %v is no ArgumentError", err)
		}
		if utf8.ValidString(params) {
			_ = Terms(params)
		}
	})
}
