package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/sse"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// Limits of stream resumption.
const (
	// replayLimit bounds the events one stream keeps for a reconnect.
	replayLimit = 1024
	// replayGrace is how long a finished stream stays resumable.
	replayGrace = time.Minute
)

// replay is one SSE stream whose events outlive the HTTP response that
// carried them: a producer appends upstream messages, the current writer
// (an HTTP response) sends them with ids "<stream>_<seq>", and a client
// that lost the response resumes with Last-Event-ID on a new GET, which
// becomes the writer from the next event on. Only one writer at a time:
// a new one supersedes the old, so no event goes out on two streams.
type replay struct {
	id string

	mu       sync.Mutex
	events   []*mcp.Message
	base     int // seq of events[0]
	sent     int // seq after the last event a writer flushed
	done     bool
	changed  chan struct{} // closed and replaced on every change
	writer   int           // generation of the current writer
	finished chan struct{} // closed when done
}

func newReplay() *replay {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &replay{id: hex.EncodeToString(b[:]), changed: make(chan struct{}), finished: make(chan struct{})}
}

func (r *replay) signal() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *replay) append(m *mcp.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, m)
	if len(r.events) > replayLimit {
		drop := len(r.events) - replayLimit
		r.events = append(r.events[:0:0], r.events[drop:]...)
		r.base += drop
	}
	r.signal()
}

func (r *replay) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	close(r.finished)
	r.signal()
}

// unsent is the seq of the first event no writer has delivered.
func (r *replay) unsent() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return max(r.sent, r.base)
}

func (r *replay) markSent(seq int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = max(r.sent, seq)
}

func (r *replay) isDone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

// attach makes the caller the writer and returns its generation.
func (r *replay) attach() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writer++
	r.signal() // wake the previous writer so it notices it was superseded
	return r.writer
}

// since returns the events from seq on, the next seq, whether the stream
// is over, whether gen is still the writer, and a channel closed on change.
func (r *replay) since(from, gen int) (evs []*mcp.Message, next int, done, current bool, changed <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if from < r.base {
		from = r.base // older events were dropped
	}
	evs = r.events[from-r.base:]
	return evs, r.base + len(r.events), r.done, gen == r.writer, r.changed
}

// eventID names event seq of stream r.
func (r *replay) eventID(seq int) string { return r.id + "_" + strconv.Itoa(seq) }

// parseEventID splits a Last-Event-ID into stream id and seq.
func parseEventID(v string) (stream string, seq int, ok bool) {
	stream, n, found := strings.Cut(v, "_")
	if !found {
		return "", 0, false
	}
	seq, err := strconv.Atoi(n)
	return stream, seq, err == nil && seq >= 0
}

// serve writes r's events from seq from on to w until the stream ends, the
// client goes away, or a newer writer takes over.
func (r *replay) serve(w *bufio.Writer, from int) {
	gen := r.attach()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		evs, next, done, current, changed := r.since(from, gen)
		if !current {
			return
		}
		for i, m := range evs {
			if sse.WriteEvent(w, r.eventID(next-len(evs)+i), "message", m.Bytes()) != nil {
				return
			}
		}
		if len(evs) > 0 {
			if w.Flush() != nil {
				return
			}
			r.markSent(next)
		}
		from = next
		if done {
			return
		}
		select {
		case <-changed:
		case <-tick.C:
			w.WriteString(": keep-alive\n\n")
			if w.Flush() != nil {
				return
			}
		}
	}
}

// produce copies st into r until last reports the final message, the
// stream ends, stop closes, or no message arrives for timeout (0: never).
// A failure becomes onErr's message (nil: none). It closes st and marks r
// done when it returns.
func produce(r *replay, st upstream.Stream, last func(*mcp.Message) bool, onErr func(error) *mcp.Message, timeout time.Duration, stop <-chan struct{}) {
	defer r.finish()
	defer st.Close()
	type item struct {
		m   *mcp.Message
		err error
	}
	ch := make(chan item, 16)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		for {
			m, err := st.Next(context.Background())
			select {
			case ch <- item{m, err}:
			case <-quit:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var deadline <-chan time.Time
	var timer *time.Timer
	if timeout > 0 {
		timer = time.NewTimer(timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	for {
		select {
		case it := <-ch:
			if it.err != nil {
				if onErr != nil && !errors.Is(it.err, io.EOF) {
					r.append(onErr(it.err))
				}
				return
			}
			r.append(it.m)
			if last(it.m) {
				return
			}
			if timer != nil {
				timer.Reset(timeout)
			}
		case <-deadline:
			if onErr != nil {
				r.append(onErr(context.DeadlineExceeded))
			}
			return
		case <-stop:
			return
		}
	}
}

// replays indexes the resumable streams of each session.
type replays struct {
	mu      sync.Mutex
	streams map[string]map[string]*replay // session → stream id → stream
	listen  map[string]*replay            // session → its GET stream
}

func newReplays() *replays {
	return &replays{streams: map[string]map[string]*replay{}, listen: map[string]*replay{}}
}

// add registers r under session and forgets it replayGrace after it ends.
func (t *replays) add(session string, r *replay) {
	t.mu.Lock()
	if t.streams[session] == nil {
		t.streams[session] = map[string]*replay{}
	}
	t.streams[session][r.id] = r
	t.mu.Unlock()
	go func() {
		<-r.finished
		time.AfterFunc(replayGrace, func() { t.remove(session, r) })
	}()
}

func (t *replays) remove(session string, r *replay) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m := t.streams[session]; m != nil && m[r.id] == r {
		delete(m, r.id)
		if len(m) == 0 {
			delete(t.streams, session)
		}
	}
	if t.listen[session] == r {
		delete(t.listen, session)
	}
}

// find returns the session's stream id.
func (t *replays) find(session, id string) *replay {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.streams[session][id]
}

// listener returns the session's live GET stream, or nil.
func (t *replays) listener(session string) *replay {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.listen[session]; r != nil && !r.isDone() {
		return r
	}
	return nil
}

// setListener records the session's GET stream unless one is live; it
// returns the stream to use.
func (t *replays) setListener(session string, r *replay) (*replay, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur := t.listen[session]; cur != nil && !cur.isDone() {
		return cur, false
	}
	t.listen[session] = r
	return r, true
}

// drop forgets every stream of a closed session.
func (t *replays) drop(session string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.streams, session)
	delete(t.listen, session)
}
