package upstream

import (
	"context"
	"io"
	"sync"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// Queue is an unbounded-by-default FIFO of messages with a close state. A
// router pushes into it from its single reader goroutine, which therefore
// never blocks on one slow consumer; Limit bounds memory by dropping the
// oldest messages.
type Queue struct {
	mu      sync.Mutex
	items   []*mcp.Message
	ready   chan struct{}
	closed  bool
	err     error
	limit   int
	dropped int
	onClose func()
}

// NewQueue returns a queue that keeps at most limit messages (0: no limit).
func NewQueue(limit int) *Queue {
	return &Queue{ready: make(chan struct{}, 1), limit: limit}
}

// Push appends a message; it reports false when the queue is closed.
func (q *Queue) Push(m *mcp.Message) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	if q.limit > 0 && len(q.items) >= q.limit {
		q.items = q.items[1:]
		q.dropped++
	}
	q.items = append(q.items, m)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// Dropped reports how many messages the limit discarded.
func (q *Queue) Dropped() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// Finish closes the queue after the queued messages: Next drains them, then
// returns err (io.EOF when err is nil).
func (q *Queue) Finish(err error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	if err == nil {
		err = io.EOF
	}
	q.err = err
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Next implements Stream.
func (q *Queue) Next(ctx context.Context) (*mcp.Message, error) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			m := q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
			more := len(q.items) > 0 || q.closed
			q.mu.Unlock()
			if more {
				select {
				case q.ready <- struct{}{}:
				default:
				}
			}
			return m, nil
		}
		if q.closed {
			err := q.err
			q.mu.Unlock()
			// Keep waking other readers.
			select {
			case q.ready <- struct{}{}:
			default:
			}
			return nil, err
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close implements Stream: it drops what is queued and runs the OnClose hook.
func (q *Queue) Close() error {
	q.mu.Lock()
	q.items = nil
	hook := q.onClose
	q.onClose = nil
	q.mu.Unlock()
	q.Finish(ErrClosed)
	if hook != nil {
		hook()
	}
	return nil
}

// OnClose sets a hook run once when a consumer closes the queue.
func (q *Queue) OnClose(f func()) {
	q.mu.Lock()
	q.onClose = f
	q.mu.Unlock()
}

// SharedStream reads q without closing it on Close, so a client can drop
// its GET stream and open another on the same session.
func SharedStream(q *Queue) Stream { return sharedStream{q} }

type sharedStream struct{ q *Queue }

func (s sharedStream) Next(ctx context.Context) (*mcp.Message, error) { return s.q.Next(ctx) }
func (s sharedStream) Close() error                                   { return nil }

// Silent returns a stream that yields nothing and ends when closed or when
// the context given to Next ends: the GET stream of an upstream without one.
func Silent() Stream { return &silent{done: make(chan struct{})} }

type silent struct {
	once sync.Once
	done chan struct{}
}

func (s *silent) Next(ctx context.Context) (*mcp.Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.done:
		return nil, io.EOF
	}
}

func (s *silent) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}
