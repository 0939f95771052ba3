package proxy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// The era translations' pure steps, fuzzed: no input panics them, and
// what they produce keeps the shape the other era expects. `make fuzz`
// runs each longer; their seeds run with the unit tests.

// FuzzDowngradeRequest: a 2026-07-28 request's params rewritten for a
// legacy upstream keep everything but the modern-only members.
func FuzzDowngradeRequest(f *testing.F) {
	for _, s := range []string{
		`{"name":"echo","arguments":{"a":1},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","progressToken":7}}`,
		`{"name":"echo","requestState":"x","inputResponses":{"r":{}}}`,
		`{"_meta":null}`, `{"_meta":[1]}`, `[]`, `null`, `"x"`, ``, `{"a":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, params []byte) {
		d := &downgraded{proxy: &Proxy{parking: newParking()}}
		req := &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(`1`), Method: mcp.MethodToolsCall, Params: params}
		up, err := d.upstreamRequest(req)
		if err != nil {
			return
		}
		var out map[string]json.RawMessage
		if len(up.Params) > 0 && json.Unmarshal(up.Params, &out) != nil {
			t.Fatalf("rewritten params are not an object: %s", up.Params)
		}
		for _, k := range []string{"requestState", "inputResponses"} {
			if _, ok := out[k]; ok {
				t.Fatalf("%s went to the legacy upstream: %s", k, up.Params)
			}
		}
		var meta map[string]json.RawMessage
		_ = json.Unmarshal(out["_meta"], &meta)
		if _, ok := meta[mcp.MetaProtocolVersion]; ok {
			t.Fatalf("the modern protocol version went to the legacy upstream: %s", up.Params)
		}
		if string(up.ID) == string(req.ID) || up.Method != req.Method {
			t.Fatalf("id %s / method %s: want a gateway id and the same method", up.ID, up.Method)
		}
	})
}

// FuzzDowngradeResult: a legacy answer relayed to a 2026-07-28 client
// carries the client's id, and an object result gains a resultType.
func FuzzDowngradeResult(f *testing.F) {
	for _, s := range []string{`{"content":[]}`, `{"resultType":"complete","x":1}`, `{}`, `null`, `[1]`, `"s"`, `{"a":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, result []byte) {
		d := &downgraded{clientID: json.RawMessage(`"client-1"`)}
		m := d.complete(&mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(`"gm-1"`), Result: result})
		if string(m.ID) != `"client-1"` {
			t.Fatalf("answer id %s, want the client's", m.ID)
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(result, &obj) == nil && obj != nil {
			var out map[string]json.RawMessage
			if json.Unmarshal(m.Result, &out) != nil || out["resultType"] == nil {
				t.Fatalf("object result %s relayed without resultType: %s", result, m.Result)
			}
		}
	})
}

// FuzzTranslateRequest: a legacy request's params sent to a 2026-07-28
// upstream carry the session's _meta (the protocol version) whatever the
// client sent, or are refused as invalid params.
func FuzzTranslateRequest(f *testing.F) {
	for _, s := range []string{
		`{"name":"echo","arguments":{}}`, `{"_meta":{"progressToken":1}}`,
		`{"_meta":{"io.modelcontextprotocol/protocolVersion":"2025-11-25"}}`, `{"_meta":5}`, `null`, `[]`, ``, `{"a":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, params []byte) {
		tr := &translated{meta: map[string]json.RawMessage{mcp.MetaProtocolVersion: json.RawMessage(`"2026-07-28"`)}}
		raw, err := tr.withMeta(params, nil)
		if err != nil {
			var e *mcp.Error
			if !asRPC(err, &e) || e.Code != mcp.CodeInvalidParams {
				t.Fatalf("refusal %v is not invalid params", err)
			}
			return
		}
		var out struct {
			Meta map[string]json.RawMessage `json:"_meta"`
		}
		if json.Unmarshal(raw, &out) != nil || string(out.Meta[mcp.MetaProtocolVersion]) != `"2026-07-28"` {
			t.Fatalf("translated params %s lack the session's protocol version", raw)
		}
	})
}

// FuzzTranslateResult: reading a 2026-07-28 result (input_required, or
// an initialize result turned into server/discover's) never panics, and
// a discover result is always a complete one naming 2026-07-28.
func FuzzTranslateResult(f *testing.F) {
	for _, s := range []string{
		`{"resultType":"input_required","inputRequests":{"r":{"method":"elicitation/create"}},"requestState":"s"}`,
		`{"capabilities":{"tools":{}},"serverInfo":{"name":"x"},"instructions":"hi"}`,
		`{"resultType":5}`, `null`, `[]`, `{"a":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, result []byte) {
		if r, ok := inputRequired(&mcp.Message{Result: result}); ok && r.ResultType != "input_required" {
			t.Fatalf("input_required read from %s", result)
		}
		var d struct {
			ResultType        string   `json:"resultType"`
			SupportedVersions []string `json:"supportedVersions"`
		}
		out := discoverFromInitialize(result)
		if json.Unmarshal(out, &d) != nil || d.ResultType != "complete" || len(d.SupportedVersions) != 1 || d.SupportedVersions[0] != mcp.Version20260728 {
			t.Fatalf("discover result %s from %s", out, result)
		}
	})
}

// FuzzParamHeaders: the Mcp-Param-* check never panics, refuses only
// with a header mismatch, and accepts a header carrying exactly the
// bound argument's text.
func FuzzParamHeaders(f *testing.F) {
	f.Add(`{"name":"t","arguments":{"region":"eu"}}`, "region", "eu")
	f.Add(`{"name":"t","arguments":{"region":"eu"}}`, "region", "=?base64?ZXU=?=")
	f.Add(`{"name":"t","arguments":{"region":7}}`, "region", "7")
	f.Add(`{"name":"t","arguments":{}}`, "other", "x")
	f.Add(`{"name":"t"`, "region", "=?base64?***?=")
	f.Fuzz(func(t *testing.T, params, header, value string) {
		bindings := toolHeaders{"t": {"region": "region"}}
		req := &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(`1`), Method: mcp.MethodToolsCall, Params: json.RawMessage(params)}
		if e := checkParamHeaders(bindings, req, map[string]string{header: value}); e != nil && e.Code != mcp.CodeHeaderMismatch {
			t.Fatalf("refused with code %d: %s", e.Code, e.Message)
		}
		var p struct {
			Arguments map[string]json.RawMessage `json:"arguments"`
		}
		if json.Unmarshal([]byte(params), &p) != nil || p.Arguments["region"] == nil {
			return
		}
		text := argumentText(p.Arguments["region"])
		if e := checkParamHeaders(bindings, req, map[string]string{"region": "=?base64?" + b64(text) + "?="}); e != nil {
			t.Fatalf("the argument's own text, encoded, is refused: %v", e)
		}
	})
}

func asRPC(err error, target **mcp.Error) bool { return errors.As(err, target) }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
