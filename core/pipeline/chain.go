package pipeline

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// Upstream sends an exchange's request to its connector: the era's way
// (a session's upstream connection, a translation, the sessionless
// passthrough). It is the chain's last step.
type Upstream func(ctx context.Context, x *Exchange) (upstream.Stream, error)

// ErrUnanswered ends an exchange whose stream was closed before the
// upstream answered.
var ErrUnanswered = errors.New("the call ended before the upstream answered")

// maxResumes bounds how often one exchange runs again from the start: a
// stage that resumes on every run would never end otherwise.
const maxResumes = 2

// Chain runs exchanges through its stages. It holds no state of its
// own; it is safe for concurrent use.
type Chain struct {
	stages []Stage
}

// New returns the chain of stages, in order; nil entries (a stage whose
// dependency this gateway does not have, as the NewXxx constructors
// return) are left out. The order is the wiring code's one list (see
// core/proxy/chain.go): request halves run first to last, answer halves
// last to first.
func New(stages ...Stage) *Chain {
	c := &Chain{stages: make([]Stage, 0, len(stages))}
	for _, s := range stages {
		if s != nil {
			c.stages = append(c.stages, s)
		}
	}
	return c
}

// Run sends x through the request halves and, when none stops it, to up;
// the stream it returns runs the answer halves on what comes back. A
// refusal comes back as the error (after the answer halves of the stages
// before the one that refused); a relayed request's failure as up's.
func (c *Chain) Run(ctx context.Context, x *Exchange, up Upstream) (upstream.Stream, error) {
	resumes := 0
	for i := 0; i < len(c.stages); i++ {
		step := c.stages[i].Request(ctx, x)
		if step.goesOn() {
			continue
		}
		if step.resume && resumes < maxResumes {
			resumes++
			i = -1
			continue
		}
		if step.suspend != nil {
			return &suspended{c: c, x: x, up: up, ctx: ctx, at: i, s: step.suspend, closed: make(chan struct{})}, nil
		}
		a := &Answer{Msg: step.reply, Final: true}
		switch {
		case step.refuse != nil:
			a.Msg, a.Err = nil, step.refuse
		case step.resume:
			a.Msg, a.Err = nil, mcp.NewError(mcp.CodeInternalError, "the exchange was resumed too often")
		}
		c.answer(ctx, x, i, a)
		if a.Err != nil {
			return nil, a.Err
		}
		return single(a.Msg), nil
	}
	x.Relayed = true
	st, err := up(ctx, x)
	if err != nil {
		a := &Answer{Err: err, Final: true}
		c.answer(ctx, x, len(c.stages), a)
		return nil, a.Err
	}
	return &answered{Stream: st, c: c, x: x}, nil
}

// answer runs the answer halves of the stages before index to on a.
func (c *Chain) answer(ctx context.Context, x *Exchange, to int, a *Answer) {
	for i := to - 1; i >= 0; i-- {
		c.stages[i].Answer(ctx, x, a)
	}
}

// single is a one-message stream.
func single(m *mcp.Message) upstream.Stream {
	q := upstream.NewQueue(1)
	q.Push(m)
	q.Finish(nil)
	return q
}

// answered is the upstream's stream seen through every answer half: each
// response is checked as it passes, and the exchange's end (its answer,
// a failure, or a close before either) is handed to them once, so the
// audit record is durable before the final response leaves.
// Notifications and server-to-client requests pass untouched.
type answered struct {
	upstream.Stream
	c     *Chain
	x     *Exchange
	ended atomic.Bool
}

func (a *answered) Next(ctx context.Context) (*mcp.Message, error) {
	m, err := a.Stream.Next(ctx)
	if err != nil {
		if a.ended.CompareAndSwap(false, true) {
			a.c.answer(ctx, a.x, len(a.c.stages), &Answer{Err: err, Final: true})
		}
		return nil, err
	}
	if m.Kind() != mcp.KindResponse {
		return m, nil
	}
	ans := &Answer{Msg: m}
	if string(m.ID) == string(a.x.Request.ID) {
		ans.Final = a.ended.CompareAndSwap(false, true)
	}
	a.c.answer(ctx, a.x, len(a.c.stages), ans)
	return ans.Msg, nil
}

func (a *answered) Close() error {
	if a.ended.CompareAndSwap(false, true) {
		// Nothing is relayed any more: the end need not hold anything up.
		a.c.answer(context.Background(), a.x, len(a.c.stages), &Answer{Err: ErrUnanswered, Final: true})
	}
	return a.Stream.Close()
}

// suspended is the stream of a held exchange: it sends the suspension's
// question, waits for the decision, then resumes the exchange from the
// first stage (the resumed exchange's stream takes over) or answers the
// refusal.
type suspended struct {
	c   *Chain
	x   *Exchange
	up  Upstream
	ctx context.Context // the exchange's, for the resumed run
	at  int             // the stage that suspended
	s   *Suspension

	asked, done bool // used by the reader only

	mu    sync.Mutex
	inner upstream.Stream // the resumed exchange's stream

	closed    chan struct{}
	closeOnce sync.Once
}

// resumed is the resumed exchange's stream once it runs (nil before).
func (h *suspended) resumed() upstream.Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.inner
}

func (h *suspended) Next(ctx context.Context) (*mcp.Message, error) {
	if inner := h.resumed(); inner != nil {
		return inner.Next(ctx)
	}
	if h.done {
		return nil, io.EOF
	}
	if h.s.Ask != nil && !h.asked {
		h.asked = true
		return h.s.Ask, nil
	}
	wctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-h.closed:
			cancel()
		case <-wctx.Done():
		}
	}()
	refused := h.s.Wait(wctx)
	cancel()
	if refused != nil {
		return h.end(ctx, h.at, refused), nil
	}
	st, err := h.c.Run(h.ctx, h.x, h.up)
	if err != nil {
		var rpcErr *mcp.Error
		if !h.x.Relayed && errors.As(err, &rpcErr) {
			// Refused on the way again (its answer halves ran).
			h.done = true
			return mcp.NewErrorResponse(h.x.Request.ID, rpcErr), nil
		}
		return nil, err
	}
	h.mu.Lock()
	h.inner = st
	closed := h.isClosed()
	h.mu.Unlock()
	if closed {
		_ = st.Close()
		return nil, io.EOF
	}
	return st.Next(ctx)
}

// end answers the exchange with refusal (after the answer halves of the
// stages before at).
func (h *suspended) end(ctx context.Context, at int, refusal *mcp.Error) *mcp.Message {
	h.done = true
	a := &Answer{Err: refusal, Final: true}
	h.c.answer(ctx, h.x, at, a)
	if a.Msg != nil {
		return a.Msg
	}
	var rpcErr *mcp.Error
	if !errors.As(a.Err, &rpcErr) {
		rpcErr = mcp.NewError(mcp.CodeInternalError, a.Err.Error())
	}
	return mcp.NewErrorResponse(h.x.Request.ID, rpcErr)
}

func (h *suspended) isClosed() bool {
	select {
	case <-h.closed:
		return true
	default:
		return false
	}
}

func (h *suspended) Close() error {
	h.mu.Lock()
	inner := h.inner
	h.closeOnce.Do(func() { close(h.closed) })
	h.mu.Unlock()
	if inner != nil {
		return inner.Close()
	}
	// Still waiting (or never resumed): nobody may decide it any more.
	if h.s.Abandon != nil {
		h.s.Abandon()
	}
	return nil
}
