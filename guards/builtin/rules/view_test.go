package rules

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// A view keeps each piece with the input it came from: a guard whose
// input differs from what the view holds (other text, other parts, other
// arguments) gets its own input's verdict, not the cached one.
func TestViewRecomputesForOtherInput(t *testing.T) {
	const key = "aws_access_key_id = AKIAQ3EGRT5YV7XKWM2P"
	clean := &guard.Input{Tool: &guard.ToolRef{Name: "read_notes"}, Arguments: json.RawMessage(`{"id":"1"}`),
		Output: &guard.Output{Text: "the notes for today"}}
	text := "the notes for today " + key
	partsOver := func(end int) *guard.Input {
		in := *clean
		in.Output = &guard.Output{Text: text, Parts: []guard.Part{{Path: "/result/content/0/text", Span: [2]int{0, end}}}}
		return &in
	}
	tests := []struct {
		name         string
		first, other func() *guard.Input
	}{
		{"other output text", func() *guard.Input { return clean }, func() *guard.Input { in := *clean; in.Output = &guard.Output{Text: "notes: " + key}; return &in }},
		// The first input's only part spans the clean words: the same
		// text is then scanned in part, the second in full.
		{"same text, other parts", func() *guard.Input { return partsOver(len("the notes for today")) }, func() *guard.Input { return partsOver(len(text)) }},
		{"other arguments", func() *guard.Input { return clean }, func() *guard.Input {
			in := *clean
			in.Arguments, _ = json.Marshal(map[string]string{"id": key})
			return &in
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPurposes()
			for _, hook := range []struct {
				name   string
				shared func(*View, *guard.Input) guard.Verdict
				alone  func(*guard.Input) guard.Verdict
			}{
				{"tool_call", p.ToolCallIn, ToolCall}, {"tool_intent", p.ToolIntentIn, ToolIntent},
				{"tool_call request", p.ToolCallRequestIn, ToolCallRequest}, {"tool_intent request", p.ToolIntentRequestIn, ToolIntentRequest},
			} {
				v := NewView()
				if got := hook.shared(v, tc.first()); len(got.Reasons) != 0 {
					t.Fatalf("%s: clean input judged %+v", hook.name, got)
				}
				other := tc.other()
				got, want := hook.shared(v, other), hook.alone(other)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: after a clean input the view gives %+v, alone %+v", hook.name, got, want)
				}
			}
			// The secret is found by the Tool Call Guard in each case, so
			// the comparison above is not between two clean verdicts.
			other := tc.other()
			if v := p.ToolCallIn(NewView(), other); len(v.Reasons) == 0 {
				if rv := p.ToolCallRequestIn(NewView(), other); len(rv.Reasons) == 0 {
					t.Errorf("no finding on %s", tc.name)
				}
			}
		})
	}
}
