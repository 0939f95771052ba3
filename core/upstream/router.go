package upstream

import (
	"sync"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// eventsLimit bounds server messages buffered while no client listens.
const eventsLimit = 1024

// Router matches the messages of a single bidirectional upstream channel
// (a stdio pipe, a legacy SSE stream) to the calls waiting for them:
//   - a response goes to the call with its id, and ends that call's stream;
//   - a progress notification goes to the call that sent its progress token;
//   - any other server message goes to the newest call still in flight
//     (servers emit logging and sampling while handling it), else to the
//     events stream that a GET listener drains.
//
// The last rule is a heuristic that transports without per-request streams
// force; docs/decisions/upstream-routing.md explains it.
type Router struct {
	mu       sync.Mutex
	calls    map[string]*routedCall
	order    []*routedCall // in-flight calls, oldest first
	progress map[string]*routedCall
	events   *Queue
	err      error
}

type routedCall struct {
	id    string
	token string
	q     *Queue
}

// NewRouter returns an empty router.
func NewRouter() *Router {
	return &Router{
		calls:    make(map[string]*routedCall),
		progress: make(map[string]*routedCall),
		events:   NewQueue(eventsLimit),
	}
}

// Register records an outgoing request and returns the stream for its
// replies. It fails once the router has failed.
func (r *Router) Register(req *mcp.Message) (Stream, error) {
	c := &routedCall{id: req.IDKey(), q: NewQueue(0)}
	if tok := req.ProgressToken(); tok != nil {
		c.token = string(tok)
	}
	r.mu.Lock()
	if r.err != nil {
		err := r.err
		r.mu.Unlock()
		return nil, err
	}
	r.calls[c.id] = c
	r.order = append(r.order, c)
	if c.token != "" {
		r.progress[c.token] = c
	}
	r.mu.Unlock()
	c.q.OnClose(func() { r.forget(c) })
	return c.q, nil
}

// Forget drops a registered call whose request could not be sent.
func (r *Router) Forget(req *mcp.Message) {
	r.mu.Lock()
	c := r.calls[req.IDKey()]
	r.mu.Unlock()
	if c != nil {
		r.forget(c)
		c.q.Finish(ErrClosed)
	}
}

func (r *Router) forget(c *routedCall) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls[c.id] == c {
		delete(r.calls, c.id)
	}
	if c.token != "" && r.progress[c.token] == c {
		delete(r.progress, c.token)
	}
	for i, o := range r.order {
		if o == c {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
}

// Dispatch routes one message read from the upstream.
func (r *Router) Dispatch(m *mcp.Message) {
	r.mu.Lock()
	var target *routedCall
	final := false
	switch m.Kind() {
	case mcp.KindResponse:
		target = r.calls[m.IDKey()]
		final = target != nil
	case mcp.KindNotification:
		if tok := m.NotificationProgressToken(); tok != nil {
			target = r.progress[string(tok)]
		}
		if target == nil && len(r.order) > 0 {
			target = r.order[len(r.order)-1]
		}
	case mcp.KindRequest:
		if len(r.order) > 0 {
			target = r.order[len(r.order)-1]
		}
	}
	r.mu.Unlock()
	if target == nil {
		r.events.Push(m)
		return
	}
	if final {
		r.forget(target)
		target.q.Push(m)
		target.q.Finish(nil)
		return
	}
	if !target.q.Push(m) {
		r.events.Push(m)
	}
}

// Events is the stream of messages tied to no call.
func (r *Router) Events() *Queue { return r.events }

// Fail ends every call in flight, and every later Register, with err.
func (r *Router) Fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	calls := r.order
	r.order = nil
	r.calls = make(map[string]*routedCall)
	r.progress = make(map[string]*routedCall)
	r.mu.Unlock()
	for _, c := range calls {
		c.q.Finish(err)
	}
	r.events.Finish(err)
}
