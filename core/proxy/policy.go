package proxy

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/pipeline"
)

// AccessGate enforces tool policies (core/access.Gate implements it).
type AccessGate interface {
	Admit(p auth.Principal, c *connector.Connector, req *mcp.Message) access.Admission
	AdmitApproved(p auth.Principal, c *connector.Connector, req *mcp.Message, approval string) access.Admission
	AdmitContinued(p auth.Principal, c *connector.Connector, req *mcp.Message) access.Admission
	FilterList(p auth.Principal, c *connector.Connector, method string, resp *mcp.Message) *mcp.Message
	KnowsTool(c *connector.Connector, tool string) bool
	MayUse(p auth.Principal, c *connector.Connector) bool
	Forget(c *connector.Connector)
	Approvals() *access.Approvals
}

// refresh re-reads principal's roles (a role binding changed since the
// session opened applies to its next request).
func (p *Proxy) refresh(principal auth.Principal) auth.Principal {
	if p.opts.Refresh == nil || principal.System {
		return principal
	}
	return p.opts.Refresh(principal)
}

// approvalIDPrefix marks the ids of the elicitation requests the gateway
// sends for approvals, so their answers are not forwarded upstream.
const approvalIDPrefix = "gatehouse-approval-"

// elicits reports whether the session's client declared the elicitation
// capability at initialize.
func elicits(initParams json.RawMessage) bool { return pipeline.Elicits(initParams) }

// heldCall is a call on the session waiting for an approval.
type heldCall struct {
	approval string
	elicit   bool   // the caller was asked through an elicitation request
	cancel   func() // abandons the approval and stops the wait
}

// Ask holds a call on the session for approval ap (the session is its
// exchanges' Asker): the caller is asked through an elicitation request
// on the call's stream when the rule lets the caller approve and the
// client supports elicitation; either way an approver may decide through
// the admin API until the timeout. An approved call resumes the chain
// with the caller's roles as they are then.
func (s *Session) Ask(_ context.Context, x *pipeline.Exchange, ap *access.Approval) pipeline.Step {
	approvals := s.proxy.opts.Access.Approvals()
	stopped, stop := context.WithCancel(context.Background())
	abandon := func() { approvals.Abandon(ap.ID, s.User) }
	h := &heldCall{approval: ap.ID, cancel: func() { stop(); abandon() }}
	var ask *mcp.Message
	s.mu.Lock()
	if s.held == nil {
		s.held = map[string]*heldCall{}
	}
	if s.elicit && ap.CallerDecides() {
		h.elicit = true
		ask, _ = pipeline.Elicitation(json.RawMessage(`"`+approvalIDPrefix+ap.ID+`"`), ap)
	}
	s.held[string(x.Request.ID)] = h
	s.mu.Unlock()
	wait := func(ctx context.Context) *mcp.Error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(stopped, cancel)()
		outcome := access.Outcome(approvals.Wait(ctx, ap))
		s.mu.Lock()
		if s.held[string(x.Request.ID)] == h {
			delete(s.held, string(x.Request.ID))
		}
		s.mu.Unlock()
		if outcome != nil {
			return outcome
		}
		x.Principal = s.who()
		x.Use = pipeline.ApprovalUse{ID: ap.ID}
		return nil
	}
	return pipeline.Suspend(pipeline.Suspension{Ask: ask, Wait: wait, Abandon: abandon})
}

// cancelHeld takes a client's notifications/cancelled for a call held
// for approval: the approval is abandoned (so nobody can approve a call
// its client gave up on) and the upstream, which never saw the call, is
// not told. False when msg is not such a notification.
func (s *Session) cancelHeld(msg *mcp.Message) bool {
	if msg.Method != mcp.MethodCancelled {
		return false
	}
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if json.Unmarshal(msg.Params, &p) != nil {
		return false
	}
	s.mu.Lock()
	h := s.held[string(p.RequestID)]
	delete(s.held, string(p.RequestID))
	s.mu.Unlock()
	if h == nil {
		return false
	}
	h.cancel()
	return true
}

// answerApproval takes the client's answer to an approval elicitation;
// false when msg is not one.
func (s *Session) answerApproval(msg *mcp.Message) bool {
	if msg.Kind() != mcp.KindResponse {
		return false
	}
	var id string
	if json.Unmarshal(msg.ID, &id) != nil || !strings.HasPrefix(id, approvalIDPrefix) {
		return false
	}
	apID := strings.TrimPrefix(id, approvalIDPrefix)
	offered := false
	s.mu.Lock()
	for _, h := range s.held {
		offered = offered || h.elicit && h.approval == apID
	}
	s.mu.Unlock()
	if !offered {
		return true // late or foreign: the approval is decided already; nothing to forward
	}
	approve, note := pipeline.ElicitationAnswer(msg)
	// The registry refuses the caller's approval unless the rule's
	// approver is caller.
	_, _ = s.proxy.opts.Access.Approvals().Decide(apID, access.Actor{User: s.User, Roles: s.who().Roles}, approve, "elicitation", note)
	return true
}
