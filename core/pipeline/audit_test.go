package pipeline

import (
	"context"
	"errors"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/upstreamtest"
)

func TestTheAuditRecordSaysHowTheCallEnded(t *testing.T) {
	denied := mcp.NewError(mcp.CodePolicyDenied, "denied by policy")
	rule := &policy.Rule{ID: "r1"}
	for _, tc := range []struct {
		name   string
		setup  func(x *Exchange)
		answer func(x *Exchange) *Answer
		want   Record
		none   bool
	}{
		{"a refusal before the upstream is denied, with its rule", func(x *Exchange) {
			x.Admission.Decision.Rule = rule
		}, func(*Exchange) *Answer { return &Answer{Err: denied, Final: true} },
			Record{Outcome: "denied", Decision: "deny", Rule: "r1", Error: "denied by policy", Code: mcp.CodePolicyDenied}, false},
		{"invalid arguments are a tool error the gateway answered", func(x *Exchange) {
			x.Admission.Invalid = &access.InvalidArguments{Tool: "echo", Message: "bad"}
		}, func(x *Exchange) *Answer {
			return &Answer{Msg: access.InvalidResult(x.Request.ID, x.Admission.Invalid), Final: true}
		},
			Record{Outcome: "tool_error", Decision: "allow", Invalid: true}, false},
		{"a relayed success after an approval is approved", func(x *Exchange) {
			x.Relayed, x.Approval = true, "ap-1"
		}, func(x *Exchange) *Answer {
			m, _ := mcp.NewResult(x.Request.ID, map[string]any{})
			return &Answer{Msg: m, Final: true}
		}, Record{Outcome: "success", Decision: "approved", Approval: "ap-1"}, false},
		{"a relayed isError result is a tool error, with the guards' block", func(x *Exchange) {
			x.Relayed = true
			x.Guarded = toolguard.Outcome{Action: "block", Verdicts: []toolguard.Verdict{{Guard: "g"}}}
		}, func(x *Exchange) *Answer {
			m, _ := mcp.NewResult(x.Request.ID, map[string]any{"isError": true})
			return &Answer{Msg: m, Final: true}
		}, Record{Outcome: "tool_error", Decision: "allow", Blocked: true}, false},
		{"an upstream failure is an error", func(x *Exchange) { x.Relayed = true },
			func(*Exchange) *Answer { return &Answer{Err: errors.New("reset"), Final: true} },
			Record{Outcome: "error", Decision: "allow", Error: "reset"}, false},
		{"a question back to the client is not the call's record", nil, func(x *Exchange) *Answer {
			m, _ := mcp.NewResult(x.Request.ID, map[string]any{"resultType": "input_required"})
			return &Answer{Msg: m, Final: true}
		}, Record{}, true},
		{"a response that is not the exchange's own is not recorded", func(x *Exchange) { x.Relayed = true }, func(x *Exchange) *Answer {
			m, _ := mcp.NewResult(x.Request.ID, map[string]any{})
			return &Answer{Msg: m}
		}, Record{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []Record
			s := NewAudit(func(_ context.Context, r Record) error { got = append(got, r); return nil }, nil, nil, zerolog.Nop())
			x := &Exchange{Principal: principal("ada"), Slug: "api", Connector: &connector.Connector{Slug: "api"}, Request: upstreamtest.ToolCall(t, 3, "echo", `{}`)}
			if tc.setup != nil {
				tc.setup(x)
			}
			s.Answer(context.Background(), x, tc.answer(x))
			if tc.none {
				if len(got) != 0 {
					t.Fatalf("recorded %+v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("recorded %d", len(got))
			}
			r := got[0]
			if r.User != "ada" || r.Connector != "api" || r.Tool != "echo" || r.RequestID != "3" {
				t.Errorf("record names %+v", r)
			}
			if r.Outcome != tc.want.Outcome || r.Decision != tc.want.Decision || r.Rule != tc.want.Rule || r.Approval != tc.want.Approval ||
				r.Code != tc.want.Code || r.Invalid != tc.want.Invalid || r.Blocked != tc.want.Blocked ||
				tc.want.Error != "" && r.Error != tc.want.Error {
				t.Errorf("record %+v, want %+v", r, tc.want)
			}
		})
	}
}

func TestAnAnswerWhoseRecordIsNotDurableIsWithheld(t *testing.T) {
	s := NewAudit(func(context.Context, Record) error { return errors.New("disk full") }, nil, nil, zerolog.Nop())
	for _, tc := range []struct {
		name    string
		relayed bool
		answer  *Answer
		wantErr bool
	}{
		{"a relayed answer becomes -31060", true, &Answer{Msg: &mcp.Message{JSONRPC: "2.0", ID: []byte("3"), Result: []byte(`{}`)}, Final: true}, false},
		{"a refusal becomes -31060", false, &Answer{Err: mcp.NewError(mcp.CodePolicyDenied, "no"), Final: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := &Exchange{Slug: "api", Request: upstreamtest.ToolCall(t, 3, "echo", `{}`), Relayed: tc.relayed}
			s.Answer(context.Background(), x, tc.answer)
			var rpcErr *mcp.Error
			switch {
			case tc.wantErr && (!errors.As(tc.answer.Err, &rpcErr) || rpcErr.Code != mcp.CodeAuditUnavailable):
				t.Errorf("error %v", tc.answer.Err)
			case !tc.wantErr && (tc.answer.Msg.Error == nil || tc.answer.Msg.Error.Code != mcp.CodeAuditUnavailable):
				t.Errorf("answer %s", tc.answer.Msg.Bytes())
			}
		})
	}
}

func TestIsToolError(t *testing.T) {
	for _, tc := range []struct {
		name, result string
		want         bool
	}{
		{"empty", ``, false},
		{"no flag", `{"content":[{"type":"text","text":"fine"}]}`, false},
		{"flag false", `{"content":[],"isError":false}`, false},
		{"flag true", `{"content":[],"isError":true}`, true},
		{"flag spelled with escapes", `{"content":[],"\u0069s\u0045rror":true}`, true},
		{"name only inside the text", `{"content":[{"type":"text","text":"\"isError\":true"}]}`, false},
		{"escape elsewhere, no flag", `{"content":[{"type":"text","text":"caf\u00e9"}]}`, false},
		{"malformed", `{"isError":true`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isToolError([]byte(tc.result)); got != tc.want {
				t.Errorf("isToolError(%s) = %v, want %v", tc.result, got, tc.want)
			}
		})
	}
}
