package mcp

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParse: no input makes Parse panic; what it accepts is valid JSON
// whose re-encoding parses to the same kind, method and id; what it
// refuses carries a JSON-RPC error code. `make fuzz` runs it longer.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"path":"/x"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":"x","result":{"content":[]}}`,
		`{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"m"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"a":1,"A":2}}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`,
		`{"jsonrpc":"2.0","id":1,`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, rpcErr := Parse(bytes.Clone(data))
		if rpcErr != nil {
			if rpcErr.Code >= 0 {
				t.Fatalf("refusal without a JSON-RPC error code: %+v", rpcErr)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		again, rpcErr := Parse(m.Bytes())
		if rpcErr != nil {
			t.Fatalf("its own encoding %s is refused: %v", m.Bytes(), rpcErr.Message)
		}
		if again.Kind() != m.Kind() || again.Method != m.Method || again.IDKey() != m.IDKey() {
			t.Fatalf("round trip changed the message: %s -> %s", data, m.Bytes())
		}
	})
}

// FuzzFoldedDuplicate: the walk never panics, and a reported path names a
// member of the input.
func FuzzFoldedDuplicate(f *testing.F) {
	for _, s := range []string{`{"path":"/a","PATH":"/b"}`, `{"a":[{"x":1},{"X":2}]}`, `{"k":1,"\u212a":2}`, `[1,2,{"a":{}}]`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if path, dup := FoldedDuplicate("arguments", data); dup && len(path) <= len("arguments") {
			t.Fatalf("duplicate reported with path %q", path)
		}
	})
}
