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
	"errors"
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
	// OutcomeToolError is a tools/call result with isError: true.
	OutcomeToolError = "tool_error"
	OutcomeDenied    = "denied"
)

// Outcomes are every outcome an entry may hold, for filters to check
// against (a filter on another value could only ever match nothing).
var Outcomes = []string{OutcomeSuccess, OutcomeError, OutcomeToolError, OutcomeDenied}

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
// action is acknowledged only once its entry is durable). Tool calls are
// committed by a group commit: each caller waits for its entry to be
// durable before the client is answered, but concurrent callers share one
// synced write, so a sync is paid per batch rather than per call. The
// batch window is the previous write itself: entries arriving while a
// write is in flight go together in the next one (up to batchMax), and a
// lone entry is written at once. Entries nobody waits for (Record) take
// the same writer. It is safe for concurrent use.
type Log struct {
	store Store
	log   zerolog.Logger
	now   func() time.Time

	in   chan pending
	done chan struct{}
	once sync.Once
	mu   sync.RWMutex // held for reading while sending on in; guards shut
	shut bool

	observers []func(*Entry)
}

// pending is one entry (or, with e nil, a Flush) waiting for the writer.
// done, when set, gets nil once the entry is durable or the error of the
// write that failed it; it has room for that one value.
type pending struct {
	e     *Entry
	done  chan error
	flush bool
}

// batchMax bounds one write; queueSize the entries waiting for it before
// callers wait (back-pressure). A failed write is retried after a backoff
// of retryStep per attempt, at most retryMax; Close gives up after
// closeAttempts.
const (
	batchMax      = 512
	queueSize     = 8192
	retryStep     = 100 * time.Millisecond
	retryMax      = 5 * time.Second
	closeAttempts = 5
)

// New starts a log over store. Observers (metrics, analytics, sinks' wake
// ups) see every entry once it is durable.
func New(store Store, log zerolog.Logger, observers ...func(*Entry)) *Log {
	l := &Log{store: store, log: log, now: func() time.Time { return time.Now().UTC() },
		in: make(chan pending, queueSize), done: make(chan struct{}), observers: observers}
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

// Append writes e durably, in a write of its own, before returning.
func (l *Log) Append(ctx context.Context, e *Entry) error {
	l.stamp(e)
	if err := l.store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	l.observe(e)
	return nil
}

// Commit returns once e is durable, sharing the synced write with the
// entries committed concurrently (group commit). An error means e is not
// durable yet and the caller must not acknowledge what it records: either
// the write failed (e stays queued and is written again; ErrNotDurable
// is in the chain) or ctx ended first (e is still written).
func (l *Log) Commit(ctx context.Context, e *Entry) error {
	l.stamp(e)
	done := make(chan error, 1)
	l.mu.RLock()
	if l.shut {
		l.mu.RUnlock()
		return l.Append(ctx, e)
	}
	// The send is not abandoned when ctx ends: the entry must be written
	// whether or not its caller still waits.
	l.in <- pending{e: e, done: done}
	l.mu.RUnlock()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("audit %s: %w: %w", e.Action, ErrNotDurable, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audit %s: waiting for the write: %w", e.Action, ctx.Err())
	}
}

// ErrNotDurable: the write carrying a committed entry failed; the entry
// is written again later.
var ErrNotDurable = errors.New("audit entry not durable")

// Record queues e for the writer without waiting for it. When the queue
// is full the caller waits (back-pressure) rather than dropping the entry.
func (l *Log) Record(e *Entry) {
	l.stamp(e)
	l.mu.RLock()
	if !l.shut {
		l.in <- pending{e: e}
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

// writer is the group commit: it takes what is queued (waiting only when
// nothing is), writes it in one synced write and tells the waiters.
// Entries of a failed write are kept and written again with the next
// batch, or after a backoff when nothing new comes; their committers are
// told of the failure at once, a Flush waits for the retry.
func (l *Log) writer() {
	defer close(l.done)
	in := l.in // nil once closed and drained
	var retry []pending
	attempts := 0
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		batch := retry
		retry = nil
		if in != nil {
			if len(batch) == 0 {
				p, ok := <-in
				if !ok {
					return
				}
				batch = append(batch, p)
			} else {
				select {
				case p, ok := <-in:
					if ok {
						batch = append(batch, p)
					} else {
						in = nil
					}
				case <-timer.C:
				}
			}
			batch, in = drain(in, batch)
		}
		if len(batch) == 0 {
			return
		}
		err := l.write(batch)
		if err == nil {
			attempts = 0
			continue
		}
		attempts++
		if in == nil && attempts >= closeAttempts {
			for _, p := range batch {
				if p.e != nil {
					l.log.Error().Err(err).Str("id", p.e.ID).Str("action", p.e.Action).Msg("audit entry lost at shutdown")
				}
				l.tell(p, err)
			}
			return
		}
		wait := min(time.Duration(attempts)*retryStep, retryMax)
		l.log.Error().Err(err).Int("entries", len(batch)).Dur("retry_in", wait).Msg("audit write failed; retrying")
		for _, p := range batch {
			if p.done != nil && !p.flush {
				l.tell(p, err) // the committer fails closed now; the entry is kept
				p.done = nil
				p.e.markLate(err)
			}
			retry = append(retry, p)
		}
		if in == nil {
			time.Sleep(wait)
		} else {
			timer.Reset(wait)
		}
	}
}

// drain adds to batch what is queued on in, without waiting, up to
// batchMax; it returns nil for in once in is closed.
func drain(in chan pending, batch []pending) ([]pending, chan pending) {
	for len(batch) < batchMax {
		select {
		case p, ok := <-in:
			if !ok {
				return batch, nil
			}
			batch = append(batch, p)
		default:
			return batch, in
		}
	}
	return batch, in
}

// markLate notes on an entry whose committer was told its write failed
// that the caller did not acknowledge it (what the entry records still
// happened upstream).
func (e *Entry) markLate(err error) {
	if _, ok := e.Details[DetailCommitFailed]; ok {
		return
	}
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[DetailCommitFailed] = err.Error()
}

// DetailCommitFailed is the detail set on an entry written after its
// first write failed: its committer had been told, and the client got an
// error instead of the answer.
const DetailCommitFailed = "commit_failed"

// write writes batch's entries in one durable write; on success it
// observes them and tells their waiters.
func (l *Log) write(batch []pending) error {
	entries := make([]*Entry, 0, len(batch))
	for _, p := range batch {
		if p.e != nil {
			entries = append(entries, p.e)
		}
	}
	if err := l.store.AppendAudit(context.Background(), entries...); err != nil {
		return err
	}
	for _, e := range entries {
		l.observe(e)
	}
	for _, p := range batch {
		l.tell(p, nil)
	}
	return nil
}

func (l *Log) tell(p pending, err error) {
	if p.done != nil {
		p.done <- err
	}
}

// Flush waits until every entry recorded or committed before the call is
// durable.
func (l *Log) Flush(ctx context.Context) error {
	done := make(chan error, 1)
	l.mu.RLock()
	if l.shut {
		l.mu.RUnlock()
		return nil
	}
	l.in <- pending{done: done, flush: true}
	l.mu.RUnlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the writer after writing what it holds (retrying a failing
// store a few times, then logging each entry it could not write).
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
