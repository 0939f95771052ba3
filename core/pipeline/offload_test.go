package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/offload"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/upstreamtest"
)

func newOffloadStage(t testing.TB) *Offload {
	t.Helper()
	box, err := secret.New(bytes.Repeat([]byte{5}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenInMemory(box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	o, err := offload.New(context.Background(), offload.Config{Threshold: 100, Preview: 10}, st.Offloads(), offload.Options{}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return NewOffload(o).(*Offload)
}

func structuredResult(id int) *mcp.Message {
	big := strings.Repeat("r", 500)
	m, _ := mcp.NewResult(json.RawMessage(`1`), map[string]any{
		"content":           []any{map[string]any{"type": "text", "text": `{"rows":"` + big + `"}`}},
		"structuredContent": map[string]any{"rows": big},
	})
	m.ID = json.RawMessage(`"` + string(rune('0'+id)) + `"`)
	return m
}

func TestTheOffloadStage(t *testing.T) {
	listing := func(t *testing.T, withSchema bool) *mcp.Message {
		tool := map[string]any{"name": "rows", "inputSchema": map[string]any{"type": "object"}}
		if withSchema {
			tool["outputSchema"] = map[string]any{"type": "object", "properties": map[string]any{"rows": map[string]any{"type": "string"}}, "required": []string{"rows"}}
		}
		m, _ := mcp.NewResult(json.RawMessage(`9`), map[string]any{"tools": []any{tool}})
		return m
	}
	tests := []struct {
		name        string
		listed      *bool // the tool was listed first, with or without an outputSchema
		principal   auth.Principal
		disabled    bool
		final       bool
		wantStored  int
		wantInPlace bool // structuredContent unchanged
	}{
		{"a tool listed without an outputSchema loses its structuredContent to a link", ptr(false), principal("ada"), false, true, 2, false},
		{"a tool with an outputSchema keeps its structuredContent in place", ptr(true), principal("ada"), false, true, 1, true},
		{"a tool never listed keeps its structuredContent in place (its schema is unknown)", nil, principal("ada"), false, true, 1, true},
		{"a connector that switches offloading off relays the answer as it is", ptr(false), principal("ada"), true, true, 0, true},
		{"the gateway's own calls are not offloaded", ptr(false), auth.Principal{User: "gatehouse", System: true}, false, true, 0, true},
		{"a response that is not the exchange's answer is left alone", ptr(false), principal("ada"), false, false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newOffloadStage(t)
			c := &connector.Connector{Slug: "api"}
			if tt.disabled {
				no := false
				c.Advanced.OffloadOutput = &no
			}
			if tt.listed != nil {
				lx := &Exchange{Principal: principal("ada"), Slug: "api", Connector: c, Relayed: true, Request: upstreamtest.Request(t, 9, mcp.MethodToolsList, `{}`)}
				s.Answer(context.Background(), lx, &Answer{Msg: listing(t, *tt.listed), Final: true})
			}
			x := &Exchange{Principal: tt.principal, Slug: "api", Connector: c, Relayed: true, Request: upstreamtest.ToolCall(t, 1, "rows", `{}`)}
			in := structuredResult(1)
			a := &Answer{Msg: in, Final: tt.final}
			s.Answer(context.Background(), x, a)
			if len(x.Offloaded.Outputs) != tt.wantStored {
				t.Fatalf("stored %d outputs (%+v), want %d", len(x.Offloaded.Outputs), x.Offloaded, tt.wantStored)
			}
			var r struct {
				Structured json.RawMessage `json:"structuredContent"`
			}
			_ = json.Unmarshal(a.Msg.Result, &r)
			if got := string(r.Structured) == `{"rows":"`+strings.Repeat("r", 500)+`"}`; got != tt.wantInPlace {
				t.Fatalf("structuredContent in place %v, want %v: %.120s", got, tt.wantInPlace, r.Structured)
			}
		})
	}
}

func TestTheOffloadStageAnswersItsOwnLinks(t *testing.T) {
	s := newOffloadStage(t)
	c := &connector.Connector{Slug: "api"}
	x := &Exchange{Principal: principal("ada"), Slug: "api", Connector: c, Relayed: true, Request: upstreamtest.ToolCall(t, 1, "dump", `{}`)}
	a := &Answer{Msg: structuredResult(1), Final: true}
	s.Answer(context.Background(), x, a)
	if len(x.Offloaded.Outputs) == 0 {
		t.Fatal("nothing stored")
	}
	uri := offload.URI("api", x.Offloaded.Outputs[0].ID)
	tests := []struct {
		name      string
		who       string
		params    string
		goesOn    bool
		wantCode  int
		wantShape string
	}{
		{"the owner's legacy read is answered by the gateway", "ada", `{"uri":"` + uri + `"}`, false, 0, `"contents"`},
		{"the owner's 2026-07-28 read is answered in that era's shape", "ada", `{"uri":"` + uri + `","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`, false, 0, `"resultType":"complete"`},
		{"another user's legacy read is refused with -32002", "bob", `{"uri":"` + uri + `"}`, false, offload.CodeResourceNotFoundLegacy, ""},
		{"another user's 2026-07-28 read is refused with -32602", "bob", `{"uri":"` + uri + `","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`, false, mcp.CodeInvalidParams, ""},
		{"any other resource goes upstream", "ada", `{"uri":"file:///etc/hosts"}`, true, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rx := &Exchange{Principal: principal(tt.who), Slug: "api", Connector: c, Request: upstreamtest.Request(t, 2, "resources/read", tt.params)}
			step := s.Request(context.Background(), rx)
			switch {
			case tt.goesOn:
				if !step.goesOn() {
					t.Fatalf("step %+v, want Continue", step)
				}
			case tt.wantCode != 0:
				if step.refuse == nil || step.refuse.Code != tt.wantCode {
					t.Fatalf("step %+v, want refusal %d", step, tt.wantCode)
				}
			default:
				if step.reply == nil || !bytes.Contains(step.reply.Result, []byte(tt.wantShape)) {
					t.Fatalf("step %+v, want a reply with %s", step, tt.wantShape)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
