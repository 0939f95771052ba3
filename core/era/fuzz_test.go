package era

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// FuzzHeaderChecks: whatever the headers and body, reading and checking
// them never panics; a request CheckHeaders accepts has an Mcp-Method
// (when sent) equal to its method and an Mcp-Name (when sent) equal to
// what it names; every refusal is a header mismatch or an invalid request
// that 2026-07-28 answers with 400. `make fuzz` runs it longer.
func FuzzHeaderChecks(f *testing.F) {
	f.Add("tools/call", "echo", "2026-07-28", "region", "eu", modernCall)
	f.Add("tools/list", "", "", "", "", plainList)
	f.Add(" tools/call ", "ech", "2025-11-25", "x", "=?base64?ZXU=?=", modernCall)
	f.Add("", "", "2026-07-28", "", "", initialize)
	f.Add("initialize", "", "", "a", "b", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///x"}}`)
	f.Fuzz(func(t *testing.T, method, name, version, param, value, body string) {
		m, perr := mcp.Parse([]byte(body))
		if perr != nil {
			return
		}
		h := ReadHeader(pairs(mcp.HeaderMethod, method, mcp.HeaderName, name, mcp.HeaderProtocolVersion, version, "Mcp-Param-"+param, value))
		_ = h.Forward()
		_ = h.Params()
		e := CheckHeaders(h, m)
		if e == nil {
			if v := h.Method(); v != "" && v != m.Method {
				t.Fatalf("accepted Mcp-Method %q for method %q", v, m.Method)
			}
			if v := h.Name(); v != "" && v != m.TargetName() {
				t.Fatalf("accepted Mcp-Name %q for %q", v, m.TargetName())
			}
		}
		for _, a := range []Adapter{Detect(h, m), Legacy{}, Modern{}} {
			if e == nil {
				e = a.Check(h, m)
			}
			if e != nil && e.Code != mcp.CodeHeaderMismatch && e.Code != mcp.CodeInvalidRequest {
				t.Fatalf("%s refused with code %d: %s", a.Name(), e.Code, e.Message)
			}
			if e != nil && (Modern{}).Status(e) != http.StatusBadRequest {
				t.Fatalf("a header refusal is not a 400: %v", e)
			}
			if e != nil && !strings.Contains(e.Message, "header") && !strings.Contains(e.Message, "request") {
				t.Fatalf("a refusal that says nothing of headers: %q", e.Message)
			}
		}
	})
}
