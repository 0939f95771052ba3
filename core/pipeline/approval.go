package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// Asker is an era's way of asking for an approval a call needs: a
// legacy session sends an elicitation request on the call's stream, the
// 2026-07-28 passthrough answers input_required and takes the answer in
// the retry. Either way, an approver may decide through the admin API.
type Asker interface {
	// Ask returns the step that holds x until ap is decided: Suspend,
	// Reply (the question as the answer) or Refuse.
	Ask(ctx context.Context, x *Exchange, ap *access.Approval) Step
}

// Approval is the stage that holds a call a require-approval rule holds
// (the policy stage opened its approval) until it is decided: asked the
// era's way (the exchange's Asker) or, without one, waited for. An
// approved call resumes from the first stage, where the policy stage
// takes its approval once, for this very call, under the rules in force
// then.
type Approval struct {
	approvals *access.Approvals
}

// NewApproval returns the approval stage.
func NewApproval(approvals *access.Approvals) *Approval { return &Approval{approvals: approvals} }

// Request holds a call that needs an approval.
func (s *Approval) Request(ctx context.Context, x *Exchange) Step {
	ap := x.Admission.Approval
	if ap == nil {
		return Continue()
	}
	if x.Asker != nil {
		return x.Asker.Ask(ctx, x, ap)
	}
	return Suspend(Suspension{Wait: s.Waiter(x, ap), Abandon: func() { s.approvals.Abandon(ap.ID, x.Principal.User) }})
}

// Answer does nothing.
func (s *Approval) Answer(context.Context, *Exchange, *Answer) {}

// Waiter waits for ap's decision: nil (and x set to take the approval)
// when approved, else the client's error.
func (s *Approval) Waiter(x *Exchange, ap *access.Approval) func(context.Context) *mcp.Error {
	return func(ctx context.Context) *mcp.Error {
		if e := access.Outcome(s.approvals.Wait(ctx, ap)); e != nil {
			return e
		}
		x.Use = ApprovalUse{ID: ap.ID}
		return nil
	}
}

// Elicitation is the elicitation/create request (with id; a bare one
// without) asking the calling user to approve ap.
func Elicitation(id json.RawMessage, ap *access.Approval) (*mcp.Message, error) {
	args := string(ap.Arguments)
	if len(args) > 2000 {
		args = args[:2000] + "…"
	}
	if args == "" {
		args = "{}"
	}
	msg := fmt.Sprintf("Gatehouse: rule %q requires an approval before tool %q of connector %q runs with these arguments:\n%s\nApprove this call? (It is denied in %s without an answer; an admin may also decide it as approval %s.)",
		ap.Rule, ap.Tool, ap.Connector, args, time.Until(ap.ExpiresAt).Round(time.Second), ap.ID)
	params := map[string]any{
		"message": msg,
		"requestedSchema": map[string]any{
			"type": "object",
			"properties": map[string]any{
				"approve": map[string]any{"type": "boolean", "title": "Approve this call", "description": "Run the tool call as shown."},
			},
			"required": []string{"approve"},
		},
	}
	if id == nil {
		raw, err := json.Marshal(params)
		return &mcp.Message{JSONRPC: "2.0", Method: mcp.MethodElicitationCreate, Params: raw}, err
	}
	return mcp.NewRequest(id, mcp.MethodElicitationCreate, params)
}

// ElicitationAnswer reads the caller's answer to an approval's
// elicitation: approved only on accept with approve true.
func ElicitationAnswer(msg *mcp.Message) (approve bool, note string) {
	var r struct {
		Action  string `json:"action"`
		Content struct {
			Approve bool `json:"approve"`
		} `json:"content"`
	}
	if msg.Error != nil {
		return false, "the caller's client refused the elicitation: " + msg.Error.Message
	}
	approve = json.Unmarshal(msg.Result, &r) == nil && r.Action == "accept" && r.Content.Approve
	return approve, "the caller answered the elicitation: " + r.Action
}

// Elicits reports whether initialize parameters declare the elicitation
// capability.
func Elicits(initParams json.RawMessage) bool {
	var p struct {
		Capabilities struct {
			Elicitation json.RawMessage `json:"elicitation"`
		} `json:"capabilities"`
	}
	return json.Unmarshal(initParams, &p) == nil && len(p.Capabilities.Elicitation) > 0 && string(p.Capabilities.Elicitation) != "null"
}
