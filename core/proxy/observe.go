package proxy

import (
	"context"
	"errors"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// CallRecord describes one finished tools/call: who called which tool of
// which connector, how long it took and how it ended.
type CallRecord struct {
	User      string
	Connector string
	Tool      string
	Sensitive bool
	Latency   time.Duration
	// Outcome is "success", "error" (a JSON-RPC error or a transport
	// failure) or "tool_error" (a result with isError: true).
	Outcome string
	// Error is the JSON-RPC error message or the failure, when any.
	Error string
	// Code is the JSON-RPC error code, when any.
	Code int
	// Guards are the ToolGuard verdicts on the call; Blocked says a guard
	// stopped its result.
	Guards  []toolguard.Verdict
	Blocked bool
}

// observeCall reports a call that ended with resp or err.
func (p *Proxy) observeCall(s *Session, req *mcp.Message, start time.Time, resp *mcp.Message, err error) {
	p.observe(s.User, s.Slug, req, start, resp, err, toolguard.Outcome{})
}

// ObserveCall reports a tools/call that the caller relayed itself (the
// sessionless passthrough) and that ended with resp or err.
func (p *Proxy) ObserveCall(user, slug string, req *mcp.Message, start time.Time, resp *mcp.Message, err error) {
	p.observe(user, slug, req, start, resp, err, toolguard.Outcome{})
}

// GuardAnswer runs the guards on an answer from slug and returns what to
// relay: tools/call answers through the call chains, tools/list answers
// through the tool pins; others pass untouched.
func (p *Proxy) GuardAnswer(ctx context.Context, slug string, req, resp *mcp.Message) (*mcp.Message, toolguard.Outcome) {
	if resp == nil {
		return resp, toolguard.Outcome{}
	}
	c, ok := p.connectors.Lookup(slug)
	if !ok {
		return resp, toolguard.Outcome{}
	}
	switch {
	case req.Method == mcp.MethodToolsList && p.opts.Tools != nil:
		filtered, err := p.opts.Tools.FilterList(ctx, c, resp)
		if err != nil {
			p.log.Error().Err(err).Str("connector", slug).Msg("tool pins unavailable; the tool list is withheld")
			return mcp.NewErrorResponse(resp.ID, mcp.Errorf(mcp.CodeToolHeld, "the tool list of connector %q cannot be checked right now", slug)), toolguard.Outcome{}
		}
		return filtered, toolguard.Outcome{}
	case req.Method == mcp.MethodToolsCall && p.opts.Guard != nil:
		return p.opts.Guard.GuardAnswer(ctx, c, req, resp)
	}
	return resp, toolguard.Outcome{}
}

// HeldError refuses a tools/call to a held tool before it reaches the
// upstream; nil when the call may proceed.
func (p *Proxy) HeldError(ctx context.Context, slug string, req *mcp.Message) *mcp.Error {
	if p.opts.Tools == nil || req.Method != mcp.MethodToolsCall || slug == "" {
		return nil
	}
	c, ok := p.connectors.Lookup(slug)
	if !ok {
		return nil
	}
	tool := req.TargetName()
	if status, held := p.opts.Tools.Held(ctx, c, tool); held {
		why := "its definition changed after it was approved"
		if status == toolguard.ToolHeldFlagged {
			why = "the Tool List Guard flagged its definition"
		}
		return mcp.Errorf(mcp.CodeToolHeld, "tool %q of connector %q is held for review: %s; an admin must approve it (POST /admin/v1/connectors/%s/tools/%s/approve)", tool, slug, why, slug, tool)
	}
	return nil
}

// ObserveGuarded reports a relayed tools/call together with its guards'
// outcome.
func (p *Proxy) ObserveGuarded(user, slug string, req *mcp.Message, start time.Time, resp *mcp.Message, out toolguard.Outcome) {
	p.observe(user, slug, req, start, resp, nil, out)
}

func (p *Proxy) observe(user, slug string, req *mcp.Message, start time.Time, resp *mcp.Message, err error, guarded toolguard.Outcome) {
	if p.opts.ObserveCall == nil || req.Method != mcp.MethodToolsCall {
		return
	}
	rec := CallRecord{User: user, Connector: slug, Tool: req.TargetName(), Latency: time.Since(start), Outcome: "success",
		Guards: guarded.Verdicts, Blocked: guarded.Action == "block"}
	if c, ok := p.connectors.Lookup(slug); ok {
		rec.Sensitive = c.Advanced.Sensitive
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
	p.opts.ObserveCall(rec)
}

// isToolError reports whether a tools/call result says isError: true.
func isToolError(result []byte) bool {
	var r struct {
		IsError bool `json:"isError"`
	}
	return len(result) > 0 && jsonv2.Unmarshal(result, &r, jsonv2.RejectUnknownMembers(false)) == nil && r.IsError
}

// ObserveStream wraps the stream of a tools/call the caller relays itself
// so that the call is reported when it ends.
func (p *Proxy) ObserveStream(st upstream.Stream, user, slug string, req *mcp.Message, start time.Time) upstream.Stream {
	if req.Method == mcp.MethodToolsList && p.opts.Tools != nil {
		return &observedCall{Stream: st, p: p, user: user, slug: slug, req: req, start: start}
	}
	if p.opts.ObserveCall == nil && p.opts.Guard == nil || req.Method != mcp.MethodToolsCall {
		return st
	}
	return &observedCall{Stream: st, p: p, user: user, slug: slug, req: req, start: start}
}

// observedCall reports its call when the answer passes, when the stream
// fails, or, failing both, when it is closed unanswered.
type observedCall struct {
	upstream.Stream
	p          *Proxy
	user, slug string
	req        *mcp.Message
	start      time.Time
	once       sync.Once
}

// Unwrap exposes the wrapped stream.
func (o *observedCall) Unwrap() upstream.Stream { return o.Stream }

func (o *observedCall) Next(ctx context.Context) (*mcp.Message, error) {
	m, err := o.Stream.Next(ctx)
	switch {
	case err != nil:
		o.once.Do(func() { o.p.observe(o.user, o.slug, o.req, o.start, nil, err, toolguard.Outcome{}) })
	case m.Kind() == mcp.KindResponse && string(m.ID) == string(o.req.ID):
		guarded, out := o.p.GuardAnswer(ctx, o.slug, o.req, m)
		o.once.Do(func() { o.p.observe(o.user, o.slug, o.req, o.start, guarded, nil, out) })
		return guarded, nil
	}
	return m, err
}

func (o *observedCall) Close() error {
	o.once.Do(func() {
		o.p.observe(o.user, o.slug, o.req, o.start, nil, errors.New("the call ended before the upstream answered"), toolguard.Outcome{})
	})
	return o.Stream.Close()
}
