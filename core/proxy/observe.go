package proxy

import (
	"context"
	"errors"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// observeDenied reports a tools/call the gateway refused before the
// upstream (a held tool, a policy denial, invalid arguments, a denied or
// expired approval). It returns the error to answer with: rpcErr, or
// the audit failure when the denial could not be recorded.
func (p *Proxy) observeDenied(ctx context.Context, user, slug string, req *mcp.Message, start time.Time, adm access.Admission, rpcErr *mcp.Error) *mcp.Error {
	if p.opts.ObserveCall == nil || req.Method != mcp.MethodToolsCall {
		return rpcErr
	}
	rec := p.record(user, slug, req, start)
	rec.Outcome, rec.Error, rec.Code, rec.Decision = "denied", rpcErr.Message, rpcErr.Code, "deny"
	if adm.Decision.Rule != nil {
		rec.Rule = adm.Decision.Rule.ID
	}
	if adm.Approval != nil {
		p.noteApproval(&rec, adm.Approval.ID)
	}
	rec.Unvalidated = adm.Unvalidated
	if failed := p.commit(ctx, rec); failed != nil {
		return failed
	}
	return rpcErr
}

// commit hands rec to the call observer and waits until it is durable;
// non-nil is the error the client gets instead of the call's answer.
func (p *Proxy) commit(ctx context.Context, rec CallRecord) *mcp.Error {
	err := p.opts.ObserveCall(ctx, rec)
	if err == nil {
		return nil
	}
	if ctx.Err() == nil {
		p.log.Error().Err(err).Str("user", rec.User).Str("connector", rec.Connector).Str("tool", rec.Tool).
			Msg("a tool call's audit entry is not durable: its answer is withheld")
	}
	return AuditUnavailable()
}

// AuditUnavailable is the error a client gets instead of an answer whose
// audit entry could not be made durable. It names no internal detail.
func AuditUnavailable() *mcp.Error {
	return mcp.NewError(mcp.CodeAuditUnavailable, "the gateway could not record this tool call in its audit log, so its answer is withheld; the call may have run upstream")
}

// noteApproval names approval id in rec, with who decided it and how.
func (p *Proxy) noteApproval(rec *CallRecord, id string) {
	rec.Approval = id
	if p.opts.Access == nil {
		return
	}
	if ap, ok := p.opts.Access.Approvals().Get(id); ok && ap.Status != access.ApprovalPending {
		rec.ApprovedBy, rec.ApprovedVia = ap.DecidedBy, ap.Via
	}
}

func (p *Proxy) record(user, slug string, req *mcp.Message, start time.Time) CallRecord {
	rec := CallRecord{User: user, Connector: slug, Tool: req.TargetName(), RequestID: string(req.ID), Latency: time.Since(start), Outcome: "success", Decision: "allow"}
	if c, ok := p.connectors.Lookup(slug); ok {
		rec.Sensitive = c.Advanced.Sensitive
		rec.Unlisted = p.opts.Tools != nil && !p.opts.Tools.Listed(context.Background(), c, rec.Tool)
	}
	return rec
}

// ObserveCall reports a tools/call that the caller relayed itself (the
// sessionless passthrough) and that ended with resp or err, once the
// report is durable; non-nil is the error to answer with instead.
func (p *Proxy) ObserveCall(ctx context.Context, user, slug string, req *mcp.Message, start time.Time, resp *mcp.Message, err error) *mcp.Error {
	return p.observeApproved(ctx, user, slug, req, start, resp, err, toolguard.Outcome{}, "")
}

// Checks reports whether the gateway reads answers to method before they
// are relayed (guards, tool pins or listing policies): such an answer it
// cannot read must not be relayed unread.
func (p *Proxy) Checks(method string) bool {
	return toolguard.Guards(method) && p.opts.Guard != nil ||
		method == mcp.MethodToolsList && p.opts.Tools != nil ||
		access.Governs(method) && p.opts.Access != nil
}

// GuardAnswer checks an answer from slug to principal (with its current
// roles) and returns what to relay: tools/call, prompts/get and
// resources/read answers (results and errors) through the guards' call
// chains; tools/list answers through the tool pins; listings narrowed to
// what principal may use; others pass untouched.
func (p *Proxy) GuardAnswer(ctx context.Context, principal auth.Principal, slug string, req, resp *mcp.Message) (*mcp.Message, toolguard.Outcome) {
	if resp == nil {
		return resp, toolguard.Outcome{}
	}
	c, ok := p.connectors.Lookup(slug)
	if !ok {
		return resp, toolguard.Outcome{}
	}
	if toolguard.Guards(req.Method) {
		if p.opts.Guard != nil {
			return p.opts.Guard.GuardAnswer(ctx, c, req, resp)
		}
		return resp, toolguard.Outcome{}
	}
	if req.Method == mcp.MethodToolsList && p.opts.Tools != nil {
		filtered, err := p.opts.Tools.FilterList(ctx, c, resp)
		if err != nil {
			p.log.Error().Err(err).Str("connector", slug).Msg("tool pins unavailable; the tool list is withheld")
			return mcp.NewErrorResponse(resp.ID, mcp.Errorf(mcp.CodeToolHeld, "the tool list of connector %q cannot be checked right now", slug)), toolguard.Outcome{}
		}
		resp = filtered
	}
	if p.opts.Access != nil && access.Governs(req.Method) {
		resp = p.opts.Access.FilterList(principal, c, req.Method, resp)
	}
	return resp, toolguard.Outcome{}
}

// heldError refuses a tools/call to a held tool of c before it reaches
// the upstream; nil when the call may proceed.
func (p *Proxy) heldError(ctx context.Context, c *connector.Connector, req *mcp.Message) *mcp.Error {
	if p.opts.Tools == nil || req.Method != mcp.MethodToolsCall {
		return nil
	}
	tool := req.TargetName()
	if status, held := p.opts.Tools.Held(ctx, c, tool); held {
		why := "its definition changed after it was approved"
		if status == toolguard.ToolHeldFlagged {
			why = "the Tool List Guard flagged its definition"
		}
		return mcp.Errorf(mcp.CodeToolHeld, "tool %q of connector %q is held for review: %s; an admin must approve it (POST /admin/v1/connectors/%s/tools/%s/approve)", tool, c.Slug, why, c.Slug, tool)
	}
	return nil
}

// ObserveGuarded reports a relayed tools/call together with its guards'
// outcome and the approval it passed ("" for none), once the report is
// durable; non-nil is the error to answer with instead of resp.
func (p *Proxy) ObserveGuarded(ctx context.Context, user, slug string, req *mcp.Message, start time.Time, resp *mcp.Message, out toolguard.Outcome, approval string) *mcp.Error {
	if failed := p.observeApproved(ctx, user, slug, req, start, resp, nil, out, approval); failed != nil {
		return failed
	}
	p.noteAnswer(user, slug, approval, req, resp)
	return nil
}

// observeApproved reports a tools/call that ended with resp or err and
// waits until the report is durable; non-nil is the audit failure to
// answer with instead.
func (p *Proxy) observeApproved(ctx context.Context, user, slug string, req *mcp.Message, start time.Time, resp *mcp.Message, err error, guarded toolguard.Outcome, approval string) *mcp.Error {
	if p.opts.ObserveCall == nil || req.Method != mcp.MethodToolsCall {
		return nil
	}
	rec := p.record(user, slug, req, start)
	rec.Guards, rec.Blocked = guarded.Verdicts, guarded.Action == "block"
	if approval != "" {
		rec.Decision = "approved"
		p.noteApproval(&rec, approval)
	}
	switch {
	case err != nil:
		rec.Outcome, rec.Error = "error", err.Error()
		var rpcErr *mcp.Error
		if errors.As(err, &rpcErr) {
			rec.Code = rpcErr.Code
		}
	case resp.Error != nil:
		rec.Outcome, rec.Error, rec.Code = "error", resp.Error.Message, resp.Error.Code
	case isToolError(resp.Result):
		rec.Outcome = "tool_error"
	}
	return p.commit(ctx, rec)
}

// isToolError reports whether a tools/call result says isError: true.
func isToolError(result []byte) bool {
	var r struct {
		IsError bool `json:"isError"`
	}
	return len(result) > 0 && jsonv2.Unmarshal(result, &r, jsonv2.RejectUnknownMembers(false)) == nil && r.IsError
}

// ObserveStream wraps the stream of a request the caller relays itself
// so that its answer is checked (GuardAnswer) and a tools/call reported
// when it ends, with the approval it passed ("" for none).
func (p *Proxy) ObserveStream(st upstream.Stream, principal auth.Principal, slug string, req *mcp.Message, start time.Time, approval string) upstream.Stream {
	return p.observeStream(st, principal, slug, req, start, approval)
}

func (p *Proxy) observeStream(st upstream.Stream, principal auth.Principal, slug string, req *mcp.Message, start time.Time, approval string) upstream.Stream {
	if req.Method == mcp.MethodToolsCall && (p.opts.ObserveCall != nil || approval != "") || p.Checks(req.Method) {
		return &observedCall{Stream: st, p: p, principal: principal, slug: slug, req: req, start: start, approval: approval}
	}
	return st
}

// observedCall checks its answer when it passes and reports its call
// then, when the stream fails, or, failing both, when it is closed
// unanswered. Every response on the stream is checked, not only the one
// whose id is byte-for-byte the request's: a client may read "\u0031" or
// an id it did not send as its answer. The answer (or the failure) is
// handed on only once the report is durable: a streamed call's
// notifications pass at once, its final response waits.
type observedCall struct {
	upstream.Stream
	p         *Proxy
	principal auth.Principal
	slug      string
	req       *mcp.Message
	start     time.Time
	approval  string
	once      sync.Once
}

// Unwrap exposes the wrapped stream.
func (o *observedCall) Unwrap() upstream.Stream { return o.Stream }

func (o *observedCall) Next(ctx context.Context) (*mcp.Message, error) {
	m, err := o.Stream.Next(ctx)
	switch {
	case err != nil:
		o.once.Do(func() {
			// The client gets an error either way; a failed report is logged.
			_ = o.p.observeApproved(ctx, o.principal.User, o.slug, o.req, o.start, nil, err, toolguard.Outcome{}, o.approval)
		})
	case m.Kind() == mcp.KindResponse:
		guarded, out := o.p.GuardAnswer(ctx, o.principal, o.slug, o.req, m)
		if string(m.ID) == string(o.req.ID) {
			var failed *mcp.Error
			o.once.Do(func() {
				failed = o.p.ObserveGuarded(ctx, o.principal.User, o.slug, o.req, o.start, guarded, out, o.approval)
			})
			if failed != nil {
				return mcp.NewErrorResponse(o.req.ID, failed), nil
			}
		}
		return guarded, nil
	}
	return m, err
}

func (o *observedCall) Close() error {
	o.once.Do(func() {
		// Nothing is relayed any more: the report need not hold anything up.
		_ = o.p.observeApproved(context.Background(), o.principal.User, o.slug, o.req, o.start, nil, errors.New("the call ended before the upstream answered"), toolguard.Outcome{}, o.approval)
	})
	return o.Stream.Close()
}
