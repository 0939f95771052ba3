// Package audit keeps the append-only audit log: every admin action and
// every tool call, who did it, what was decided and how it ended. Entries
// are written through a Store (core/store), queried by time range, actor,
// connector and action, and redacted for readers who may not see a
// sensitive connector's details.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Outcomes of an audited action.
const (
	OutcomeSuccess = "success"
	OutcomeError   = "error"
	OutcomeDenied  = "denied"
)

// ActionToolCall is the action of a proxied tools/call.
const ActionToolCall = "tool.call"

// Verdict is one guard's verdict on a call, as audited.
type Verdict struct {
	Guard   string   `json:"guard"`
	Verdict string   `json:"verdict"` // allow, flag, redact, block, error
	Score   float64  `json:"score,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
}

// Entry is one audit record. Entries are never changed once written.
type Entry struct {
	// ID orders entries by time: 16 hex digits of Unix nanoseconds, then 8
	// random hex digits.
	ID        string         `json:"id"`
	Time      time.Time      `json:"time"`
	Actor     string         `json:"actor"`
	TokenID   string         `json:"token_id,omitempty"`
	Action    string         `json:"action"`
	Target    string         `json:"target,omitempty"`
	Connector string         `json:"connector,omitempty"`
	Tool      string         `json:"tool,omitempty"`
	Decision  string         `json:"decision,omitempty"`
	Outcome   string         `json:"outcome"`
	Error     string         `json:"error,omitempty"`
	LatencyMS float64        `json:"latency_ms,omitempty"`
	Guards    []Verdict      `json:"guards,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
	// Sensitive marks an entry about a sensitive connector: readers without
	// the right see it redacted.
	Sensitive bool `json:"sensitive,omitempty"`
	// Redacted is set on copies handed to readers who may not see the
	// details; stored entries never carry it.
	Redacted bool `json:"redacted,omitempty"`
}

// Redacted is the value that replaces hidden fields.
const Redacted = "[redacted]"

// Redact returns a copy of e with everything but who, when, which connector
// and how it ended masked.
func (e Entry) Redact() Entry {
	out := Entry{ID: e.ID, Time: e.Time, Actor: e.Actor, Action: e.Action,
		Decision: e.Decision, Outcome: e.Outcome, LatencyMS: e.LatencyMS, Sensitive: true, Redacted: true}
	// A sensitive connector's slug, and an admin action's target (the
	// slug, a tool, a rule), say what the reader may not know.
	for dst, v := range map[*string]string{&out.Tool: e.Tool, &out.Target: e.Target, &out.Connector: e.Connector} {
		if v != "" {
			*dst = Redacted
		}
	}
	if e.Error != "" {
		out.Error = Redacted
	}
	return out
}

// NewID returns a time-ordered entry id for t.
func NewID(t time.Time) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%016x", uint64(t.UnixNano())) + hex.EncodeToString(r[:])
}

// IDFloor is the smallest id at or after t, for range queries.
func IDFloor(t time.Time) string { return fmt.Sprintf("%016x", uint64(t.UnixNano())) }

// Filter selects entries. Zero fields match everything.
type Filter struct {
	From, To  time.Time // [From, To)
	Actor     string
	Connector string
	Action    string // exact, or a prefix ending in "." ("connector.")
	Outcome   string
	After     string // resume after this entry id (pagination cursor)
	Limit     int    // 0: no limit
}

// Match reports whether e passes the filter's field conditions (the time
// range and cursor are applied by the store's scan).
func (f Filter) Match(e *Entry) bool {
	if f.Actor != "" && e.Actor != f.Actor {
		return false
	}
	if f.Connector != "" && e.Connector != f.Connector {
		return false
	}
	if f.Outcome != "" && e.Outcome != f.Outcome {
		return false
	}
	if f.Action != "" {
		if f.Action[len(f.Action)-1] == '.' {
			if len(e.Action) < len(f.Action) || e.Action[:len(f.Action)] != f.Action {
				return false
			}
		} else if e.Action != f.Action {
			return false
		}
	}
	return true
}

// Store persists entries durably and scans them in id order.
type Store interface {
	AppendAudit(ctx context.Context, entries ...*Entry) error
	ScanAudit(ctx context.Context, f Filter, fn func(*Entry) (bool, error)) error
}

// Log is the audit log. Admin actions are appended synchronously (the
// action is acknowledged only once its entry is durable); tool calls are
// batched by a background writer so the hot path never waits for a disk
// sync. It is safe for concurrent use.
type Log struct {
	store Store
	log   zerolog.Logger
	now   func() time.Time

	in      chan *Entry
	flushes chan chan struct{}
	done    chan struct{}
	once    sync.Once
	mu      sync.RWMutex // held for reading while sending on in; guards shut
	shut    bool

	observers []func(*Entry)
}

// batchMax bounds one background write; batchWait how long a lone entry
// waits for company.
const (
	batchMax  = 512
	batchWait = 20 * time.Millisecond
	queueSize = 8192
)

// New starts a log over store. Observers (metrics, analytics, sinks' wake
// ups) see every entry once it is durable.
func New(store Store, log zerolog.Logger, observers ...func(*Entry)) *Log {
	l := &Log{store: store, log: log, now: func() time.Time { return time.Now().UTC() },
		in: make(chan *Entry, queueSize), flushes: make(chan chan struct{}), done: make(chan struct{}), observers: observers}
	go l.writer()
	return l
}

func (l *Log) stamp(e *Entry) {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	if e.ID == "" {
		e.ID = NewID(e.Time)
	}
	if e.Outcome == "" {
		e.Outcome = OutcomeSuccess
	}
}

// Append writes e durably before returning.
func (l *Log) Append(ctx context.Context, e *Entry) error {
	l.stamp(e)
	if err := l.store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	l.observe(e)
	return nil
}

// Record queues e for the background writer. When the queue is full the
// caller waits (back-pressure) rather than dropping the entry.
func (l *Log) Record(e *Entry) {
	l.stamp(e)
	l.mu.RLock()
	if !l.shut {
		l.in <- e
		l.mu.RUnlock()
		return
	}
	l.mu.RUnlock()
	// After Close: write directly, never lose it.
	if err := l.store.AppendAudit(context.Background(), e); err != nil {
		l.log.Error().Err(err).Str("action", e.Action).Msg("audit entry lost")
		return
	}
	l.observe(e)
}

func (l *Log) observe(e *Entry) {
	for _, o := range l.observers {
		o(e)
	}
}

func (l *Log) writer() {
	defer close(l.done)
	batch := make([]*Entry, 0, batchMax)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		// Retry until durable: an audit entry is never dropped.
		for attempt := 0; ; attempt++ {
			err := l.store.AppendAudit(context.Background(), batch...)
			if err == nil {
				break
			}
			l.log.Error().Err(err).Int("entries", len(batch)).Msg("audit write failed; retrying")
			time.Sleep(min(time.Duration(attempt+1)*100*time.Millisecond, 5*time.Second))
		}
		for _, e := range batch {
			l.observe(e)
		}
		batch = batch[:0]
	}
	for {
		select {
		case e, ok := <-l.in:
			if !ok {
				flush()
				return
			}
			batch = append(batch, e)
			if len(batch) == 1 {
				timer.Reset(batchWait)
			}
			if len(batch) >= batchMax {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		case reply := <-l.flushes:
			// Everything recorded before Flush was called is already in
			// the queue: take it all, then write.
			for drained := false; !drained; {
				select {
				case e, ok := <-l.in:
					if !ok {
						drained = true
						break
					}
					batch = append(batch, e)
				default:
					drained = true
				}
			}
			timer.Stop()
			flush()
			close(reply)
		}
	}
}

// Flush waits until every entry recorded before the call is durable.
func (l *Log) Flush(ctx context.Context) error {
	reply := make(chan struct{})
	select {
	case l.flushes <- reply:
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-reply:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the background writer after writing what it holds.
func (l *Log) Close() {
	l.once.Do(func() {
		l.mu.Lock()
		l.shut = true
		close(l.in)
		l.mu.Unlock()
		<-l.done
	})
}

// Query hands fn the entries matching f, oldest first, up to f.Limit.
func (l *Log) Query(ctx context.Context, f Filter, fn func(*Entry) (bool, error)) error {
	return l.store.ScanAudit(ctx, f, fn)
}

// ParseTime reads a query time: RFC 3339, or a duration back from now
// ("24h").
func ParseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a duration back from now (24h) or Unix seconds", s)
}
