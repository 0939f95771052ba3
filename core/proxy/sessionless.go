package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/pipeline"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/streamhttp"
)

// SessionlessReply is what the server writes for a sessionless
// (2026-07-28) request relayed to a modern upstream: exactly one of Err,
// Failed, Stream, or the whole answer (Status, ContentType, Body).
type SessionlessReply struct {
	// Err is the gateway's error, with its HTTP status.
	Err *mcp.Error
	// Failed is the upstream's failure (a timeout, a broken stream).
	Failed error
	// Status is the HTTP status of Err, of Failed, or of a whole answer.
	// ContentType and Body are a whole answer, as the upstream sent it
	// unless the chain rewrote it.
	Status      int
	ContentType string
	Body        []byte
	// Stream is an SSE answer to pump; Done must be called once it is
	// over (it closes the stream and ends the request's place in flight).
	Stream upstream.Stream
	Done   func()
}

// bodyReply is the sessionless upstream's whole answer as the chain's
// upstream step kept it (Exchange.Reply).
type bodyReply struct {
	reply  *streamhttp.Reply
	answer *mcp.Message // parsed, nil when unreadable
}

// errUnreadable: the upstream answered a request whose answer the chain
// reads with no JSON-RPC message; it is not relayed.
type errUnreadable struct{ status int }

func (e *errUnreadable) Error() string {
	return fmt.Sprintf("upstream answered HTTP %d without a JSON-RPC message", e.status)
}

// Sessionless runs a sessionless request to connector slug through the
// chain, with conn (ModernUpstream's) as its upstream and headers (the
// client's routing headers) forwarded. Approvals are asked the
// 2026-07-28 way (input_required, pipeline.InputRequired); the request
// counts against the limits on requests in flight until its answer is
// relayed.
func (p *Proxy) Sessionless(ctx context.Context, principal auth.Principal, slug string, conn *streamhttp.Conn, msg *mcp.Message, headers map[string]string) SessionlessReply {
	if r, handled := p.sessionlessSearch(ctx, principal, slug, conn, msg, headers); handled {
		return r // tool search (toolsearch_modern.go)
	}
	return p.sessionless(ctx, principal, slug, conn, msg, headers)
}

// sessionless is Sessionless without tool search.
func (p *Proxy) sessionless(ctx context.Context, principal auth.Principal, slug string, conn *streamhttp.Conn, msg *mcp.Message, headers map[string]string) SessionlessReply {
	if rpcErr := p.opts.Limits.nameError(msg, slug == ""); rpcErr != nil {
		return SessionlessReply{Err: rpcErr, Status: http.StatusOK}
	}
	end, rpcErr := p.Begin(principal, slug)
	if rpcErr != nil {
		return SessionlessReply{Err: rpcErr, Status: http.StatusOK}
	}
	c, _ := p.connectors.Lookup(slug)
	x := &pipeline.Exchange{Principal: principal, Slug: slug, Connector: c, Request: msg, Start: time.Now()}
	if p.stages.inputRequired != nil {
		x.Asker = p.stages.inputRequired
	}
	cancelCall := func() {}
	up := func(_ context.Context, x *pipeline.Exchange) (upstream.Stream, error) {
		// The upstream must at least answer with headers within the call
		// timeout; a stream then lives as long as the client reads it.
		callCtx, cancel := context.WithCancel(ctx)
		timer := time.AfterFunc(p.opts.CallTimeout, cancel)
		reply, err := conn.Forward(callCtx, x.Request, headers)
		if !timer.Stop() {
			err = context.DeadlineExceeded
		}
		if err != nil {
			cancel()
			return nil, err
		}
		if reply.Stream != nil {
			cancelCall = cancel
			return reply.Stream, nil
		}
		cancel()
		ans, perr := mcp.Parse(reply.Body)
		x.Reply = &bodyReply{reply: reply}
		if perr != nil {
			if p.reads(x.Request.Method) || x.IsCall() {
				return nil, &errUnreadable{status: reply.Status}
			}
			empty := upstream.NewQueue(1) // relayed unread: nothing reads it
			empty.Finish(nil)
			return empty, nil
		}
		x.Reply.(*bodyReply).answer = ans
		q := upstream.NewQueue(1)
		q.Push(ans)
		q.Finish(nil)
		return q, nil
	}
	st, err := p.chain.Run(ctx, x, up)
	done := func() { cancelCall(); end() }
	if err != nil {
		done()
		var unreadable *errUnreadable
		var refusal *mcp.Error
		switch {
		case errors.As(err, &unreadable):
			return SessionlessReply{Status: http.StatusBadGateway, Err: mcp.Errorf(mcp.CodeUpstreamProtocol,
				"connector %q answered %s (HTTP %d) with no JSON-RPC message the gateway can check; it is not relayed", slug, msg.Method, unreadable.status)}
		case !x.Relayed && errors.As(err, &refusal):
			return SessionlessReply{Err: refusal, Status: http.StatusOK}
		}
		return failedReply(err)
	}
	body, whole := x.Reply.(*bodyReply)
	if x.Relayed && !whole {
		return SessionlessReply{Stream: st, Done: func() { _ = st.Close(); done() }}
	}
	// A whole answer: the gateway's own, or the upstream's body.
	defer done()
	m, err := st.Next(ctx)
	_ = st.Close()
	switch {
	case !x.Relayed && err == nil:
		return SessionlessReply{Status: http.StatusOK, ContentType: "application/json", Body: m.Bytes()}
	case !x.Relayed:
		return failedReply(err)
	case errors.Is(err, io.EOF) || err == nil && m == body.answer:
		return SessionlessReply{Status: body.reply.Status, ContentType: body.reply.ContentType, Body: body.reply.Body}
	case err != nil:
		return failedReply(err)
	}
	status := body.reply.Status
	if m.Error != nil && m.Error.Code == mcp.CodeAuditUnavailable {
		status = http.StatusOK // the gateway's, not the upstream's
	}
	return SessionlessReply{Status: status, ContentType: "application/json", Body: m.Bytes()}
}
