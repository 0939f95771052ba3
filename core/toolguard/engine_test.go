package toolguard

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-mcp/gatehouse/guards/parts"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// fake is a Module answering with a fixed verdict or error, recording
// calls and the input it saw.
type fake struct {
	hooks map[string]bool
	v     guard.Verdict
	err   error
	calls int
	seen  guard.Input
}

func (f *fake) Implements(h string) bool { return f.hooks[h] }
func (f *fake) CallWithin(_ context.Context, _ string, in []byte, _ time.Duration) (guard.Verdict, error) {
	f.calls++
	_ = json.Unmarshal(in, &f.seen)
	return f.v, f.err
}

func callHooks() map[string]bool { return map[string]bool{guard.HookToolCall: true} }

const result = `{"content":[{"type":"text","text":"key AKIAIOSFODNN7EXAMPLE ok"},{"type":"image","data":"x"},{"type":"text","text":"second"}],"structuredContent":{"k":"AKIAIOSFODNN7EXAMPLE"}}`

func TestChain(t *testing.T) {
	allow := &fake{hooks: callHooks(), v: guard.Allow()}
	flag := &fake{hooks: callHooks(), v: guard.Flag(0.4, guard.Reason{Code: "odd", Message: "odd output"})}
	block := &fake{hooks: callHooks(), v: guard.Block(0.95, guard.Reason{Code: "inj", Message: "prompt injection in the output"})}
	lowBlock := &fake{hooks: callHooks(), v: guard.Verdict{V: 1, Action: guard.ActionAllow, Score: 0.8, Reasons: []guard.Reason{{Code: "x", Message: "scored high"}}}}
	broken := &fake{hooks: callHooks(), err: errors.New("guard trapped: boom")}
	// The key is in a text item and in structuredContent: one span each.
	text := outputOf(t, result).Text
	second := strings.LastIndex(text, "AKIA")
	redact := &fake{hooks: callHooks(), v: guard.Redact(0.9, []guard.Redaction{{Path: "/output/text", Span: [2]int{4, 24}}, {Path: "/output/text", Span: [2]int{second, second + 20}}}, guard.Reason{Code: "secret", Message: "an AWS key"})}
	after := &fake{hooks: callHooks(), v: guard.Allow()}
	tests := []struct {
		name     string
		chain    []Entry
		settings func(*Settings)
		action   string
		blocker  string
		reason   string
	}{
		{"nothing found", []Entry{{"a", allow, true, nil, nil, ""}}, nil, guard.ActionAllow, "", ""},
		{"a flag passes", []Entry{{"a", allow, true, nil, nil, ""}, {"f", flag, true, nil, nil, ""}}, nil, guard.ActionFlag, "", ""},
		{"a block stops the chain", []Entry{{"b", block, true, nil, nil, ""}, {"after", after, true, nil, nil, ""}}, nil, guard.ActionBlock, "b", "prompt injection in the output"},
		{"a disabled guard does not run", []Entry{{"b", block, false, nil, nil, ""}}, nil, guard.ActionAllow, "", ""},
		{"a high score is raised to block", []Entry{{"s", lowBlock, true, nil, nil, ""}}, nil, guard.ActionBlock, "s", "scored high"},
		{"the same score only flags at low sensitivity", []Entry{{"s", lowBlock, true, nil, nil, ""}}, func(s *Settings) { s.Sensitivity = "low" }, guard.ActionFlag, "", ""},
		{"a per-connector override wins", []Entry{{"s", lowBlock, true, nil, nil, ""}}, func(s *Settings) {
			s.Sensitivity = "low"
			s.Connectors = map[string]ConnectorSettings{"gh": {Sensitivity: "high"}}
		}, guard.ActionBlock, "s", "scored high"},
		{"a failing guard blocks when failing closed", []Entry{{"x", broken, true, nil, nil, ""}}, nil, guard.ActionBlock, "x", "the guard failed and the connector fails closed: guard trapped: boom"},
		{"a failing guard flags when failing open", []Entry{{"x", broken, true, nil, nil, ""}}, func(s *Settings) { s.FailMode = FailOpen }, guard.ActionFlag, "", ""},
		{"redaction", []Entry{{"r", redact, true, nil, nil, ""}}, nil, guard.ActionRedact, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			after.calls = 0
			s := DefaultSettings()
			if tc.settings != nil {
				tc.settings(&s)
			}
			e := New(s)
			e.SetChain(tc.chain)
			out, res := e.CheckCall(context.Background(), Call{Slug: "gh", Tool: guard.ToolRef{Name: "read"}, Arguments: json.RawMessage(`{}`), Result: json.RawMessage(result)})
			if out.Action != tc.action || out.Blocker != tc.blocker || out.Reason != tc.reason {
				t.Errorf("outcome %+v, want %s by %q (%q)", out, tc.action, tc.blocker, tc.reason)
			}
			if tc.action == guard.ActionBlock && after.calls != 0 {
				t.Error("a guard after a block ran")
			}
			if tc.action == guard.ActionRedact {
				if strings.Contains(string(res), "AKIA") || !strings.Contains(string(res), "key [redacted] ok") || !strings.Contains(string(res), `"second"`) || !strings.Contains(string(res), `"structuredContent":{"k":"[redacted]"}`) {
					t.Errorf("redacted result %s", res)
				}
			} else if string(res) != result {
				t.Errorf("result changed: %s", res)
			}
		})
	}
	t.Run("the envelope carries the output text and the resolved sensitivity", func(t *testing.T) {
		f := &fake{hooks: callHooks(), v: guard.Allow()}
		e := New(DefaultSettings())
		e.SetChain([]Entry{{"f", f, true, nil, nil, ""}})
		e.CheckCall(context.Background(), Call{Slug: "gh", Tool: guard.ToolRef{Name: "read", Description: "Reads"}, Arguments: json.RawMessage(`{"p":1}`), Result: json.RawMessage(result)})
		in := f.seen
		if in.Hook != guard.HookToolCall || in.Method != "tools/call" || !strings.HasPrefix(in.Output.Text, "key AKIAIOSFODNN7EXAMPLE ok\nsecond\n") || in.Sensitivity.Threshold != 0.7 || in.Tool.Description != "Reads" || string(in.Arguments) != `{"p":1}` {
			t.Errorf("input %+v", in)
		}
		var paths []string
		for _, p := range in.Output.Parts {
			paths = append(paths, p.Path)
		}
		if got := strings.Join(paths, " "); got != "/result/content/0/text /result/content/2/text /result/structuredContent/k /result/structuredContent/k" {
			t.Errorf("parts %s", got)
		}
	})
}

func outputOf(t *testing.T, result string) guard.Output {
	t.Helper()
	a, err := parts.Parse(parts.MethodToolsCall, parts.RootResult, []byte(result), 0)
	if err != nil {
		t.Fatal(err)
	}
	return a.Output()
}

func TestSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Settings)
		want string
	}{
		{func(s *Settings) { s.Sensitivity = "extreme" }, "sensitivity"},
		{func(s *Settings) { s.FailMode = "maybe" }, "fail_mode"},
		{func(s *Settings) { s.Connectors = map[string]ConnectorSettings{"gh": {Sensitivity: "x"}} }, "connectors.gh.sensitivity"},
		{func(s *Settings) { s.CallTimeoutMS = 0 }, "call_timeout_ms"},
	} {
		s := DefaultSettings()
		tc.edit(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err %v, want %q", err, tc.want)
		}
	}
	if err := DefaultSettings().Validate(); err != nil {
		t.Error(err)
	}
}
