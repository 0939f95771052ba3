package proxy

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/pipeline"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
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

// approvalUse says how admit treats a require-approval rule holding a
// call: the zero value holds it; id takes that approval (once, for this
// exact call); continued lets a continuation of an approved call through.
type approvalUse struct {
	id        string
	continued bool
}

// admit runs the checks a request to connector slug passes before the
// upstream sees it: held tools (pins), then tool policies and argument
// validation. principal must carry its current roles (Session.who, or a
// request's own authentication). A call a require-approval rule holds
// comes back with its Approval set (awaitApproval waits for it), unless
// use says it was approved (its approval is then taken) or continues an
// approved call.
func (p *Proxy) admit(ctx context.Context, principal auth.Principal, slug string, req *mcp.Message, use approvalUse) access.Admission {
	if slug == "" || req.Kind() != mcp.KindRequest {
		return access.Admission{}
	}
	c, ok := p.connectors.Lookup(slug)
	if !ok {
		return access.Admission{} // the upstream path answers "not found"
	}
	if rpcErr := p.heldError(ctx, c, req); rpcErr != nil {
		return access.Admission{Err: rpcErr}
	}
	if p.opts.Access == nil {
		return access.Admission{}
	}
	if req.Method == mcp.MethodToolsCall && !c.Advanced.SkipInputValidation && !principal.System {
		p.learnTools(ctx, c, req.TargetName())
	}
	switch {
	case use.continued:
		return p.opts.Access.AdmitContinued(principal, c, req)
	case use.id != "":
		return p.opts.Access.AdmitApproved(principal, c, req, use.id)
	}
	return p.opts.Access.Admit(principal, c, req)
}

// invalidAnswer answers a call whose arguments fail the tool's schema
// (a tool execution error) and reports it; the caller relays it.
func (p *Proxy) invalidAnswer(ctx context.Context, user, slug string, req *mcp.Message, start time.Time, adm access.Admission) *mcp.Message {
	m := access.InvalidResult(req.ID, adm.Invalid)
	if p.opts.ObserveCall != nil {
		rec := p.record(user, slug, req, start)
		rec.Outcome, rec.Error, rec.Invalid = "tool_error", adm.Invalid.Error(), true
		if failed := p.commit(ctx, rec); failed != nil {
			return mcp.NewErrorResponse(req.ID, failed)
		}
	}
	return m
}

// answerInvalid is invalidAnswer as a one-message stream.
func (p *Proxy) answerInvalid(ctx context.Context, user, slug string, req *mcp.Message, start time.Time, adm access.Admission) upstream.Stream {
	q := upstream.NewQueue(1)
	q.Push(p.invalidAnswer(ctx, user, slug, req, start, adm))
	q.Finish(nil)
	return q
}

// awaitApproval waits for the approval adm holds (if any) and returns the
// error the client gets when it was not given.
func (p *Proxy) awaitApproval(ctx context.Context, adm access.Admission) *mcp.Error {
	if adm.Approval == nil {
		return nil
	}
	return access.Outcome(p.opts.Access.Approvals().Wait(ctx, adm.Approval))
}

// schemaRetry is how long the gateway waits before listing a connector's
// tools again to learn a schema it could not learn.
const schemaRetry = 30 * time.Second

// learnTools lists c's tools (as the gateway) when the input schema of
// tool is not known yet, so the call can be validated: after a restart,
// or when a client calls without listing first. Failures (a connector
// needing each user's own credentials) are retried after schemaRetry;
// meanwhile calls pass unvalidated and say so in the audit log.
func (p *Proxy) learnTools(ctx context.Context, c *connector.Connector, tool string) {
	if p.opts.Access.KnowsTool(c, tool) {
		return
	}
	p.mu.Lock()
	l := p.learning[c.Slug]
	if l == nil || (l.done() && time.Since(l.at) > schemaRetry) {
		l = &learning{at: time.Now(), ch: make(chan struct{})}
		p.learning[c.Slug] = l
		go func() {
			defer close(l.ch)
			lctx, cancel := context.WithTimeout(context.Background(), p.opts.CallTimeout)
			defer cancel()
			if _, err := p.ScanTools(lctx, c.Slug); err != nil {
				p.log.Warn().Err(err).Str("connector", c.Slug).Msg("could not list tools to learn their input schemas")
			}
		}()
	}
	p.mu.Unlock()
	select {
	case <-l.ch:
	case <-ctx.Done():
	}
}

// learning is one listing of a connector's tools for their schemas.
type learning struct {
	at time.Time
	ch chan struct{}
}

func (l *learning) done() bool {
	select {
	case <-l.ch:
		return true
	default:
		return false
	}
}

// approvalIDPrefix marks the ids of the elicitation requests the gateway
// sends for approvals, so their answers are not forwarded upstream.
const approvalIDPrefix = "gatehouse-approval-"

// elicits reports whether the session's client declared the elicitation
// capability at initialize.
func elicits(initParams json.RawMessage) bool {
	var p struct {
		Capabilities struct {
			Elicitation json.RawMessage `json:"elicitation"`
		} `json:"capabilities"`
	}
	return json.Unmarshal(initParams, &p) == nil && len(p.Capabilities.Elicitation) > 0 && string(p.Capabilities.Elicitation) != "null"
}

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
