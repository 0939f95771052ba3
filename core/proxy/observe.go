package proxy

import (
	"context"
	"errors"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
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
}

// observeCall reports a call that ended with resp or err.
func (p *Proxy) observeCall(s *Session, req *mcp.Message, start time.Time, resp *mcp.Message, err error) {
	p.ObserveCall(s.User, s.Slug, req, start, resp, err)
}

// ObserveCall reports a tools/call that the caller relayed itself (the
// sessionless passthrough) and that ended with resp or err.
func (p *Proxy) ObserveCall(user, slug string, req *mcp.Message, start time.Time, resp *mcp.Message, err error) {
	if p.opts.ObserveCall == nil || req.Method != mcp.MethodToolsCall {
		return
	}
	rec := CallRecord{User: user, Connector: slug, Tool: req.TargetName(), Latency: time.Since(start), Outcome: "success"}
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
	if p.opts.ObserveCall == nil || req.Method != mcp.MethodToolsCall {
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
		o.once.Do(func() { o.p.ObserveCall(o.user, o.slug, o.req, o.start, nil, err) })
	case m.Kind() == mcp.KindResponse && string(m.ID) == string(o.req.ID):
		o.once.Do(func() { o.p.ObserveCall(o.user, o.slug, o.req, o.start, m, nil) })
	}
	return m, err
}

func (o *observedCall) Close() error {
	o.once.Do(func() {
		o.p.ObserveCall(o.user, o.slug, o.req, o.start, nil, errors.New("the call ended before the upstream answered"))
	})
	return o.Stream.Close()
}
