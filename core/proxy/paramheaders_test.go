package proxy

import (
	"encoding/json"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

func TestCheckParamHeaders(t *testing.T) {
	bindings := toolHeaders{"deploy": {"region": "region", "replicas": "replicas"}}
	call := func(args string) *mcp.Message {
		return &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage("1"), Method: mcp.MethodToolsCall, Params: json.RawMessage(`{"name":"deploy","arguments":` + args + `}`)}
	}
	tests := []struct {
		name    string
		args    string
		headers map[string]string
		ok      bool
	}{
		{"matching plain headers pass", `{"region":"eu-west","replicas":3}`, map[string]string{"region": "eu-west", "replicas": "3"}, true},
		{"a Base64 header that decodes to the value passes", `{"region":"Hello"}`, map[string]string{"region": "=?base64?SGVsbG8=?="}, true},
		{"surrounding whitespace is ignored", `{"region":"eu"}`, map[string]string{"region": "  eu "}, true},
		{"no bound argument and no header pass", `{}`, nil, true},
		{"a value without the Base64 wrapper is literal", `{"region":"SGVsbG8="}`, map[string]string{"region": "SGVsbG8="}, true},
		{"a mismatched value is refused", `{"region":"eu"}`, map[string]string{"region": "us"}, false},
		{"a missing header is refused", `{"region":"eu"}`, nil, false},
		{"a header without its argument is refused", `{}`, map[string]string{"region": "eu"}, false},
		{"bad Base64 padding is refused", `{"region":"Hello"}`, map[string]string{"region": "=?base64?SGVsbG8?="}, false},
		{"a header naming no argument is refused", `{"region":"eu"}`, map[string]string{"region": "eu", "zone": "a"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkParamHeaders(bindings, call(tc.args), tc.headers)
			if (err == nil) != tc.ok {
				t.Fatalf("checkParamHeaders = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && err.Code != mcp.CodeHeaderMismatch {
				t.Errorf("code %d, want %d", err.Code, mcp.CodeHeaderMismatch)
			}
		})
	}
}
