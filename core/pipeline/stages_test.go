package pipeline

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/upstreamtest"
)

func principal(user string) auth.Principal { return auth.Principal{User: user} }

func callExchange(t *testing.T, tool string) *Exchange {
	return &Exchange{Principal: principal("ada"), Slug: "api", Connector: &connector.Connector{Slug: "api"},
		Request: upstreamtest.ToolCall(t, 1, tool, `{"cmd":"ls; rm -rf /"}`)}
}

type fakePins map[string]string

func (p fakePins) Held(_ context.Context, _ *connector.Connector, tool string) (string, bool) {
	s, ok := p[tool]
	return s, ok
}

func TestHeldToolsAreRefused(t *testing.T) {
	s := NewHeld(fakePins{"changed": toolguard.ToolHeldChanged, "flagged": toolguard.ToolHeldFlagged})
	for _, tc := range []struct {
		tool   string
		refuse bool
	}{{"changed", true}, {"flagged", true}, {"echo", false}} {
		t.Run(tc.tool, func(t *testing.T) {
			step := s.Request(context.Background(), callExchange(t, tc.tool))
			if (step.refuse != nil) != tc.refuse || tc.refuse && step.refuse.Code != mcp.CodeToolHeld {
				t.Errorf("step %+v", step)
			}
		})
	}
	if NewHeld(nil) != nil {
		t.Error("a held stage without pins")
	}
}

// fakeGate answers every admission with adm, noting how it was asked.
type fakeGate struct {
	adm access.Admission
	how string
}

func (g *fakeGate) Admit(auth.Principal, *connector.Connector, *mcp.Message) access.Admission {
	g.how = "admit"
	return g.adm
}

func (g *fakeGate) AdmitApproved(_ auth.Principal, _ *connector.Connector, _ *mcp.Message, id string) access.Admission {
	g.how = "approved " + id
	return g.adm
}

func (g *fakeGate) AdmitContinued(auth.Principal, *connector.Connector, *mcp.Message) access.Admission {
	g.how = "continued"
	return g.adm
}

func TestPolicyAndValidation(t *testing.T) {
	denied := mcp.NewError(mcp.CodePolicyDenied, "no")
	inv := &access.InvalidArguments{Tool: "echo", Message: "bad"}
	for _, tc := range []struct {
		name                 string
		use                  ApprovalUse
		adm                  access.Admission
		how                  string
		refused, answered    bool
		wantApprovalOnRecord string
	}{
		{"an allowed call goes on", ApprovalUse{}, access.Admission{}, "admit", false, false, ""},
		{"a denied call is refused", ApprovalUse{}, access.Admission{Err: denied}, "admit", true, false, ""},
		{"invalid arguments are answered by the gateway", ApprovalUse{}, access.Admission{Invalid: inv}, "admit", false, true, ""},
		{"an approved call takes its approval", ApprovalUse{ID: "ap-1"}, access.Admission{}, "approved ap-1", false, false, "ap-1"},
		{"an approval that does not apply is refused", ApprovalUse{ID: "ap-1"}, access.Admission{Err: denied}, "approved ap-1", true, false, ""},
		{"a continuation is not held again", ApprovalUse{Continued: true}, access.Admission{}, "continued", false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &fakeGate{adm: tc.adm}
			x := callExchange(t, "echo")
			x.Use = tc.use
			step := NewPolicy(g).Request(context.Background(), x)
			if step.goesOn() {
				step = Validate{}.Request(context.Background(), x)
			}
			if g.how != tc.how || (step.refuse != nil) != tc.refused || (step.reply != nil) != tc.answered || x.Approval != tc.wantApprovalOnRecord {
				t.Errorf("asked %q, step %+v, approval %q", g.how, step, x.Approval)
			}
			if tc.answered {
				var r struct{ IsError bool }
				if err := json.Unmarshal(step.reply.Result, &r); err != nil || !r.IsError {
					t.Errorf("answer %s", step.reply.Bytes())
				}
			}
		})
	}
}

// blockShell is a pre-call guard refusing arguments with a shell chain.
type blockShell struct{ seen int }

func (g *blockShell) GuardRequest(_ context.Context, _ *connector.Connector, req *mcp.Message, _ *toolguard.Reading) (*mcp.Error, toolguard.Outcome) {
	g.seen++
	var p struct{ Arguments map[string]string }
	_ = json.Unmarshal(req.Params, &p)
	if len(p.Arguments["cmd"]) > 0 {
		return mcp.NewError(mcp.CodeGuardBlocked, "blocked by ToolGuard \"shell\": command injection"), toolguard.Outcome{Action: "block", Blocker: "shell", Verdicts: []toolguard.Verdict{{Guard: "shell", Action: "block"}}}
	}
	return nil, toolguard.Outcome{Action: "allow"}
}

func TestPreCallGuardsBlockBeforeTheUpstream(t *testing.T) {
	g := &blockShell{}
	var ran []string
	c := New(NewPreCall(g))
	x := callExchange(t, "run")
	_, err := c.Run(context.Background(), x, echo(&ran))
	if err == nil || len(ran) != 0 {
		t.Fatalf("error %v, upstream ran %v", err, ran)
	}
	if x.Guarded.Action != "block" || len(x.Guarded.Verdicts) != 1 {
		t.Errorf("outcome %+v", x.Guarded)
	}
	if NewPreCall(struct{}{}) != nil || NewPreCall(nil) != nil {
		t.Error("a pre-call stage over a guard without the request hook")
	}
}

// The guard engine is a RequestGuard: the binary's wiring
// (NewPreCall(engine)) gets the stage.
var _ RequestGuard = (*toolguard.Engine)(nil)

// verdictGuard answers every request with a fixed outcome.
type verdictGuard struct {
	out   toolguard.Outcome
	seen  int
	block bool
}

func (g *verdictGuard) GuardRequest(context.Context, *connector.Connector, *mcp.Message, *toolguard.Reading) (*mcp.Error, toolguard.Outcome) {
	g.seen++
	if g.block {
		return mcp.NewError(mcp.CodeGuardBlocked, "blocked"), g.out
	}
	return nil, g.out
}

func TestPreCallStage(t *testing.T) {
	flagged := toolguard.Outcome{Action: "flag", Verdicts: []toolguard.Verdict{{Guard: "g", Action: "flag", Reasons: []string{"odd: odd"}}}}
	blocked := toolguard.Outcome{Action: "block", Blocker: "g", Reason: "injection", Verdicts: []toolguard.Verdict{{Guard: "g", Action: "block"}}}
	tests := []struct {
		name         string
		guard        *verdictGuard
		method       string
		upstreamRuns bool
		judged       int
		verdicts     int
		action       string
	}{
		{"an allowed call goes upstream", &verdictGuard{out: toolguard.Outcome{Action: "allow"}}, "tools/call", true, 1, 0, ""},
		{"a flagged call goes upstream with its verdicts on the record", &verdictGuard{out: flagged}, "tools/call", true, 1, 1, ""},
		{"a blocked call never reaches the upstream", &verdictGuard{out: blocked, block: true}, "tools/call", false, 1, 1, "block"},
		{"a request that is not a call is not judged", &verdictGuard{out: blocked, block: true}, "prompts/get", true, 0, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ran []string
			x := callExchange(t, "run")
			x.Request.Method = tc.method
			_, err := New(NewPreCall(tc.guard)).Run(context.Background(), x, echo(&ran))
			if (len(ran) == 1) != tc.upstreamRuns || (err == nil) != tc.upstreamRuns {
				t.Fatalf("upstream ran %v, error %v", ran, err)
			}
			if tc.guard.seen != tc.judged || len(x.Guarded.Verdicts) != tc.verdicts || x.Guarded.Action != tc.action {
				t.Errorf("judged %d times, guarded %+v", tc.guard.seen, x.Guarded)
			}
			if !tc.upstreamRuns && x.Guarded.Blocker != "g" {
				t.Errorf("blocker %q", x.Guarded.Blocker)
			}
		})
	}
}

// fakeAnswerGuard blocks every answer.
type fakeAnswerGuard struct{}

func (fakeAnswerGuard) GuardAnswer(_ context.Context, _ *connector.Connector, _, resp *mcp.Message, _ *toolguard.Reading) (*mcp.Message, toolguard.Outcome) {
	return mcp.NewErrorResponse(resp.ID, mcp.NewError(mcp.CodeGuardBlocked, "blocked")), toolguard.Outcome{Action: "block"}
}

type fakeLists struct{ pinned, narrowed bool }

func (f *fakeLists) FilterList(_ context.Context, _ *connector.Connector, resp *mcp.Message) (*mcp.Message, error) {
	f.pinned = true
	return resp, nil
}

type fakePolicyLists struct{ f *fakeLists }

func (p fakePolicyLists) FilterList(_ auth.Principal, _ *connector.Connector, _ string, resp *mcp.Message) *mcp.Message {
	if !p.f.pinned {
		panic("narrowed before the pins saw the listing")
	}
	p.f.narrowed = true
	return resp
}

func TestAnswerStagesActOnTheirMethods(t *testing.T) {
	for _, tc := range []struct {
		method        string
		guarded, list bool
	}{
		{mcp.MethodToolsCall, true, false},
		{mcp.MethodToolsList, false, true},
		{mcp.MethodPing, false, false},
	} {
		t.Run(tc.method, func(t *testing.T) {
			lists := &fakeLists{}
			x := &Exchange{Slug: "api", Connector: &connector.Connector{Slug: "api"}, Relayed: true, Request: upstreamtest.Request(t, 1, tc.method, `{}`)}
			a := &Answer{Msg: &mcp.Message{JSONRPC: "2.0", ID: []byte("1"), Result: []byte(`{"tools":[]}`)}, Final: true}
			NewNarrow(lists, fakePolicyLists{lists}, zerolog.Nop()).Answer(context.Background(), x, a)
			NewAnswerGuards(fakeAnswerGuard{}).Answer(context.Background(), x, a)
			if guarded := a.Msg.Error != nil; guarded != tc.guarded || (x.Guarded.Action == "block") != tc.guarded {
				t.Errorf("guarded %v", guarded)
			}
			if lists.narrowed != tc.list {
				t.Errorf("narrowed %v", lists.narrowed)
			}
		})
	}
}
