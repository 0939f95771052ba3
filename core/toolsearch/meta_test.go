package toolsearch

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

func TestListResultOffersTheTwoMetaTools(t *testing.T) {
	var r struct {
		Tools []struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(ListResult(), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Tools) != 2 || r.Tools[0].Name != SearchName || r.Tools[1].Name != CallName {
		t.Fatalf("tools %+v", r.Tools)
	}
	for _, tl := range r.Tools {
		if strings.Contains(tl.Name, "__") {
			t.Errorf("%q could collide with a namespaced tool", tl.Name)
		}
	}
}

func TestParseSearch(t *testing.T) {
	tests := []struct {
		name    string
		params  string
		want    SearchArgs
		wantErr string
	}{
		{"a query with the default limit", `{"name":"search_tools","arguments":{"query":"send mail"}}`, SearchArgs{Query: "send mail", Limit: DefaultLimit}, ""},
		{"a query with a limit", `{"name":"search_tools","arguments":{"query":"x","limit":12}}`, SearchArgs{Query: "x", Limit: 12}, ""},
		{"no query", `{"name":"search_tools","arguments":{}}`, SearchArgs{}, "needs a query"},
		{"no arguments at all", `{"name":"search_tools"}`, SearchArgs{}, "needs a query"},
		{"a blank query", `{"name":"search_tools","arguments":{"query":"  "}}`, SearchArgs{}, "query is empty"},
		{"a query that is no string", `{"name":"search_tools","arguments":{"query":3}}`, SearchArgs{}, "query must be a string"},
		{"a query too long", `{"name":"search_tools","arguments":{"query":"` + strings.Repeat("a", MaxQueryBytes+1) + `"}}`, SearchArgs{}, "at most 1024"},
		{"a limit of zero", `{"name":"search_tools","arguments":{"query":"x","limit":0}}`, SearchArgs{}, "limit must be"},
		{"a limit above the most", `{"name":"search_tools","arguments":{"query":"x","limit":21}}`, SearchArgs{}, "limit must be"},
		{"a fractional limit", `{"name":"search_tools","arguments":{"query":"x","limit":2.5}}`, SearchArgs{}, "limit must be"},
		{"an unknown argument", `{"name":"search_tools","arguments":{"query":"x","q":"y"}}`, SearchArgs{}, `"q" is not an argument`},
		{"arguments that are no object", `{"name":"search_tools","arguments":[1]}`, SearchArgs{}, "arguments must be an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSearch(json.RawMessage(tt.params))
			if tt.wantErr != "" {
				var ae *ArgumentError
				if !errors.As(err, &ae) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want an ArgumentError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v %v, want %+v", got, err, tt.want)
			}
		})
	}
}

func TestRealCall(t *testing.T) {
	tests := []struct {
		name       string
		params     string
		wantParams string
		wantErr    string
	}{
		{"names the real tool with its arguments", `{"name":"call_tool","arguments":{"name":"alpha__echo","arguments":{"message":"hi"}}}`,
			`{"name":"alpha__echo","arguments":{"message":"hi"}}`, ""},
		{"keeps _meta (the progress token)", `{"name":"call_tool","arguments":{"name":"echo"},"_meta":{"progressToken":7}}`,
			`{"name":"echo","arguments":{},"_meta":{"progressToken":7}}`, ""},
		{"no name", `{"name":"call_tool","arguments":{"arguments":{}}}`, "", "needs name"},
		{"a name that is no string", `{"name":"call_tool","arguments":{"name":5}}`, "", "needs name"},
		{"a meta-tool as the target", `{"name":"call_tool","arguments":{"name":"search_tools"}}`, "", "calls a real tool"},
		{"inner arguments that are no object", `{"name":"call_tool","arguments":{"name":"echo","arguments":"x"}}`, "", "arguments must be an object"},
		{"an unknown argument", `{"name":"call_tool","arguments":{"name":"echo","args":{}}}`, "", `"args" is not an argument`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(`42`), Method: mcp.MethodToolsCall, Params: json.RawMessage(tt.params)}
			got, err := RealCall(req)
			if tt.wantErr != "" {
				var ae *ArgumentError
				if !errors.As(err, &ae) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want an ArgumentError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got.ID) != "42" || got.Method != mcp.MethodToolsCall {
				t.Errorf("id %s method %s", got.ID, got.Method)
			}
			var a, b any
			_ = json.Unmarshal(got.Params, &a)
			_ = json.Unmarshal([]byte(tt.wantParams), &b)
			if ja, _ := json.Marshal(a); string(ja) != func() string { jb, _ := json.Marshal(b); return string(jb) }() {
				t.Errorf("params %s, want %s", got.Params, tt.wantParams)
			}
		})
	}
}

func TestSearchResult(t *testing.T) {
	out, err := SearchResult(SearchArgs{Query: "echo"}, []Hit{{Tool: tool("a__echo", "Echo")}})
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		Structured struct {
			Tools []map[string]any `json:"tools"`
		} `json:"structuredContent"`
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	if r.IsError || len(r.Structured.Tools) != 1 || r.Structured.Tools[0]["name"] != "a__echo" || !strings.Contains(r.Content[0].Text, `"a__echo"`) {
		t.Errorf("result %s", out)
	}
	none, _ := SearchResult(SearchArgs{Query: "zzz"}, nil)
	if !strings.Contains(string(none), `No tool you may use matches \"zzz\"`) || !strings.Contains(string(none), `"tools":[]`) {
		t.Errorf("empty result %s", none)
	}
}
