package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantKind Kind
		wantCode int    // 0: valid
		wantID   string // raw id of the parsed message, when one is returned
		wantMsg  string // substring of the error message
	}{
		{name: "a request with an integer id is a request", in: `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, wantKind: KindRequest, wantID: "1"},
		{name: "a request with a string id is a request", in: `{"jsonrpc":"2.0","id":"a-1","method":"ping"}`, wantKind: KindRequest, wantID: `"a-1"`},
		{name: "a negative integer id is accepted", in: `{"jsonrpc":"2.0","id":-7,"method":"ping"}`, wantKind: KindRequest, wantID: "-7"},
		{name: "a request with object params is a request", in: `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo"}}`, wantKind: KindRequest, wantID: "2"},
		{name: "null params are accepted", in: `{"jsonrpc":"2.0","id":2,"method":"ping","params":null}`, wantKind: KindRequest, wantID: "2"},
		{name: "surrounding whitespace is ignored", in: " \n\t{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\r\n ", wantKind: KindRequest, wantID: "3"},
		{name: "a message without an id is a notification", in: `{"jsonrpc":"2.0","method":"notifications/initialized"}`, wantKind: KindNotification},
		{name: "a notification with params is a notification", in: `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}`, wantKind: KindNotification},
		{name: "a result is a response", in: `{"jsonrpc":"2.0","id":1,"result":{}}`, wantKind: KindResponse, wantID: "1"},
		{name: "a null result is still a response", in: `{"jsonrpc":"2.0","id":"x","result":null}`, wantKind: KindResponse, wantID: `"x"`},
		{name: "an error object is a response", in: `{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}}`, wantKind: KindResponse, wantID: "1"},

		{name: "an empty body is a parse error", in: ``, wantCode: CodeParseError, wantMsg: "empty body"},
		{name: "a blank body is a parse error", in: " \n ", wantCode: CodeParseError, wantMsg: "empty body"},
		{name: "text that is not JSON is a parse error", in: `{"jsonrpc":`, wantCode: CodeParseError},
		{name: "trailing data after the message is a parse error", in: `{"jsonrpc":"2.0","method":"x"} {}`, wantCode: CodeParseError},
		{name: "a duplicate top-level member is refused", in: `{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"ping"}`, wantCode: CodeInvalidRequest, wantMsg: "duplicate"},
		{name: "a member differing only in case is refused", in: `{"jsonrpc":"2.0","id":1,"method":"tools/call","Method":"ping"}`, wantCode: CodeInvalidRequest, wantMsg: "duplicate"},
		{name: "a duplicate tool name in params is refused", in: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}`, wantCode: CodeInvalidRequest, wantMsg: "duplicate"},
		{name: "a tool name differing only in case is refused", in: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","Name":"b"}}`, wantCode: CodeInvalidRequest, wantID: "1", wantMsg: "duplicate"},
		{name: "a duplicate argument deep inside params is refused", in: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"path":"/ok","path":"/etc"}}}`, wantCode: CodeInvalidRequest, wantMsg: "duplicate"},
		{name: "an argument differing only in case is refused, naming it", in: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"path":"/srv/ok","PATH":"/etc/passwd"}}}`, wantCode: CodeInvalidParams, wantID: "1", wantMsg: "arguments.PATH"},
		{name: "a case-folded argument deep in an array is refused, naming its path", in: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"ops":[{"x":1},{"Path":"/a","pATH":"/b"}]}}}`, wantCode: CodeInvalidParams, wantID: "1", wantMsg: "arguments.ops[1].pATH"},
		{name: "a Kelvin sign folds to k", in: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/get\",\"params\":{\"name\":\"a\",\"arguments\":{\"kind\":\"x\",\"\u212aind\":\"y\"}}}", wantCode: CodeInvalidParams, wantID: "1", wantMsg: "ind"},
		{name: "a wrongly typed member is an invalid request", in: `{"jsonrpc":"2.0","method":1}`, wantCode: CodeInvalidRequest},
		{name: "a batch array is refused", in: `[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, wantCode: CodeInvalidRequest, wantMsg: "batches"},
		{name: "jsonrpc 1.0 is refused", in: `{"jsonrpc":"1.0","id":1,"method":"ping"}`, wantCode: CodeInvalidRequest, wantID: "1", wantMsg: `"jsonrpc"`},
		{name: "a missing jsonrpc is refused", in: `{"id":1,"method":"ping"}`, wantCode: CodeInvalidRequest, wantID: "1", wantMsg: `"jsonrpc"`},
		{name: "a float id is refused", in: `{"jsonrpc":"2.0","id":1.5,"method":"ping"}`, wantCode: CodeInvalidRequest, wantID: "1.5", wantMsg: `"id"`},
		{name: "an exponent id is refused", in: `{"jsonrpc":"2.0","id":1e3,"method":"ping"}`, wantCode: CodeInvalidRequest, wantID: "1e3", wantMsg: `"id"`},
		{name: "a null id on a request is refused", in: `{"jsonrpc":"2.0","id":null,"method":"ping"}`, wantCode: CodeInvalidRequest, wantID: "null", wantMsg: `"id"`},
		{name: "an object id is refused", in: `{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, wantCode: CodeInvalidRequest, wantID: `{"a":1}`, wantMsg: `"id"`},
		{name: "a boolean id is refused", in: `{"jsonrpc":"2.0","id":true,"method":"ping"}`, wantCode: CodeInvalidRequest, wantID: "true", wantMsg: `"id"`},
		{name: "arguments with distinct names pass", in: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"path":"/a","paths":["/b"],"o":{"path":1,"x":{"path":2}}}}}`, wantKind: KindRequest, wantID: "1"},
		{name: "array params are refused", in: `{"jsonrpc":"2.0","id":1,"method":"ping","params":[1,2]}`, wantCode: CodeInvalidRequest, wantID: "1", wantMsg: `"params"`},
		{name: "string params are refused", in: `{"jsonrpc":"2.0","method":"x","params":"a"}`, wantCode: CodeInvalidRequest, wantMsg: `"params"`},
		{name: "a response with both result and error is refused", in: `{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}`, wantCode: CodeInvalidRequest, wantID: "1", wantMsg: "both"},
		{name: "an id without result or error is refused", in: `{"jsonrpc":"2.0","id":1}`, wantCode: CodeInvalidRequest, wantID: "1", wantMsg: `"method"`},
		{name: "an empty object is refused", in: `{"jsonrpc":"2.0"}`, wantCode: CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.in))
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("Parse = %v, want a valid message", err)
				}
				if got := m.Kind(); got != tt.wantKind {
					t.Errorf("Kind = %v, want %v", got, tt.wantKind)
				}
			} else {
				if err == nil {
					t.Fatalf("Parse accepted %s, want error %d", tt.in, tt.wantCode)
				}
				if err.Code != tt.wantCode {
					t.Errorf("code = %d, want %d (%s)", err.Code, tt.wantCode, err.Message)
				}
				if !strings.Contains(err.Message, tt.wantMsg) {
					t.Errorf("message %q does not mention %q", err.Message, tt.wantMsg)
				}
			}
			if m != nil && m.IDKey() != tt.wantID {
				t.Errorf("IDKey = %q, want %q", m.IDKey(), tt.wantID)
			}
		})
	}
}

func TestIDKeyKeepsIntegerAndStringIDsApart(t *testing.T) {
	n, _ := Parse([]byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	s, _ := Parse([]byte(`{"jsonrpc":"2.0","id":"1","method":"ping"}`))
	if n.IDKey() == s.IDKey() {
		t.Errorf("id 1 and id \"1\" share the key %q", n.IDKey())
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{KindRequest, "request"},
		{KindNotification, "notification"},
		{KindResponse, "response"},
		{KindInvalid, "invalid"},
		{Kind(200), "invalid"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("kind %d reads %s", tt.kind, tt.want), func(t *testing.T) {
			if got := tt.kind.String(); got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBytes(t *testing.T) {
	t.Run("a parsed message forwards its raw bytes untouched", func(t *testing.T) {
		// Odd spacing, key order and escapes must survive: the gateway
		// forwards what it did not change.
		in := []byte(`{ "method" : "tools/call", "params":{"name":"echo","arguments":{"message":"\u00e9"}} ,"id":  7, "jsonrpc":"2.0"}`)
		m, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Bytes(); !bytes.Equal(got, in) {
			t.Errorf("Bytes = %s, want %s", got, in)
		}
	})
	t.Run("a built message encodes once and keeps its encoding", func(t *testing.T) {
		m, err := NewRequest(json.RawMessage(`5`), MethodPing, nil)
		if err != nil {
			t.Fatal(err)
		}
		first := m.Bytes()
		if want := `{"jsonrpc":"2.0","id":5,"method":"ping"}`; string(first) != want {
			t.Errorf("Bytes = %s, want %s", first, want)
		}
		if again := m.Bytes(); &again[0] != &first[0] {
			t.Error("Bytes encoded the message a second time")
		}
		if back, perr := Parse(first); perr != nil || back.Kind() != KindRequest {
			t.Errorf("the encoding does not parse back as a request: %v", perr)
		}
	})
}

func TestBuilders(t *testing.T) {
	tests := []struct {
		name  string
		build func() (*Message, error)
		want  string
	}{
		{"NewRequest encodes params", func() (*Message, error) {
			return NewRequest(json.RawMessage(`"r1"`), MethodToolsCall, map[string]string{"name": "echo"})
		}, `{"jsonrpc":"2.0","id":"r1","method":"tools/call","params":{"name":"echo"}}`},
		{"NewRequest passes raw params through", func() (*Message, error) {
			return NewRequest(json.RawMessage(`1`), MethodToolsList, json.RawMessage(`{"cursor":"c"}`))
		}, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"c"}}`},
		{"NewNotification has no id", func() (*Message, error) {
			return NewNotification(MethodInitialized, nil)
		}, `{"jsonrpc":"2.0","method":"notifications/initialized"}`},
		{"NewResult encodes the result", func() (*Message, error) {
			return NewResult(json.RawMessage(`3`), map[string]int{"n": 1})
		}, `{"jsonrpc":"2.0","id":3,"result":{"n":1}}`},
		{"NewErrorResponse turns a missing id into null", func() (*Message, error) {
			return NewErrorResponse(nil, NewError(CodeParseError, "bad")), nil
		}, `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			if got := string(m.Bytes()); got != tt.want {
				t.Errorf("Bytes = %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("unencodable params are an error", func(t *testing.T) {
		if _, err := NewRequest(json.RawMessage(`1`), MethodPing, make(chan int)); err == nil {
			t.Error("NewRequest accepted a channel")
		}
		if _, err := NewResult(json.RawMessage(`1`), make(chan int)); err == nil {
			t.Error("NewResult accepted a channel")
		}
	})
}

func TestErrorf(t *testing.T) {
	e := Errorf(CodeConnectorNotFound, "no connector %q", "x")
	if e.Code != CodeConnectorNotFound || e.Message != `no connector "x"` {
		t.Errorf("Errorf = %+v", e)
	}
	if got, want := e.Error(), `json-rpc error -31052: no connector "x"`; got != want {
		t.Errorf("Error = %q, want %q", got, want)
	}
}

// toolsCall1K is a realistic tools/call of about 1 KiB.
var toolsCall1K = func() []byte {
	b := []byte(`{"jsonrpc":"2.0","id":1234,"method":"tools/call","params":{"name":"search_issues","arguments":{"query":"label:bug state:open sort:updated","repository":"gatehouse-mcp/gatehouse","fields":["title","body","labels","assignees","comments"],"limit":50,"body":"` +
		strings.Repeat("lorem ipsum dolor sit amet ", 27) + `"},"_meta":{"progressToken":"tok-1234"}}}`)
	return b
}()

func BenchmarkParseToolsCall(b *testing.B) {
	if n := len(toolsCall1K); n < 1000 || n > 1100 {
		b.Fatalf("fixture is %d bytes, want about 1 KiB", n)
	}
	b.SetBytes(int64(len(toolsCall1K)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(toolsCall1K)
		if err != nil || m.Method != MethodToolsCall {
			b.Fatal(err)
		}
	}
}
