package audit

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"
)

// memStore keeps entries in memory and counts its writes; while gate is
// set, the first write waits for it to close.
type memStore struct {
	mu      sync.Mutex
	entries []*Entry
	writes  []int // entries per write
	gate    chan struct{}
	entered chan struct{}
	fail    atomic.Int64 // writes left to fail
}

func (m *memStore) AppendAudit(_ context.Context, es ...*Entry) error {
	m.mu.Lock()
	gate := m.gate
	m.gate = nil
	m.mu.Unlock()
	if gate != nil {
		close(m.entered)
		<-gate
	}
	if m.fail.Add(-1) >= 0 {
		return errors.New("disk full")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, es...)
	m.writes = append(m.writes, len(es))
	return nil
}

func (m *memStore) ScanAudit(context.Context, Filter, func(*Entry) (bool, error)) error { return nil }

func (m *memStore) has(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.entries {
		if e.ID == id {
			return true
		}
	}
	return false
}

func TestCommitReturnsOnceTheEntryIsWritten(t *testing.T) {
	m := &memStore{}
	l := New(m, zerolog.Nop())
	defer l.Close()
	for i := range 20 {
		e := &Entry{Actor: "mia", Action: ActionToolCall, Tool: "t"}
		if err := l.Commit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		if !m.has(e.ID) {
			t.Fatalf("commit %d returned before its entry was written", i)
		}
	}
}

func TestConcurrentCommitsShareOneWrite(t *testing.T) {
	gate := make(chan struct{})
	m := &memStore{gate: gate, entered: make(chan struct{})}
	l := New(m, zerolog.Nop())
	defer l.Close()
	// The first commit holds the writer inside its write.
	first := make(chan error, 1)
	go func() { first <- l.Commit(context.Background(), &Entry{Action: ActionToolCall}) }()
	<-m.entered
	const n = 10
	errs := make(chan error, n)
	for range n {
		go func() { errs <- l.Commit(context.Background(), &Entry{Action: ActionToolCall}) }()
	}
	for len(l.in) < n { // all n are queued behind the write in flight
		runtime.Gosched()
	}
	close(gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.writes) != 2 || m.writes[1] != n {
		t.Errorf("writes carried %v entries, want [1 %d]: the waiting commits should share the next write", m.writes, n)
	}
}

func TestAFailedCommitIsReportedAndTheEntryWrittenLater(t *testing.T) {
	m := &memStore{}
	m.fail.Store(1)
	l := New(m, zerolog.Nop())
	defer l.Close()
	e := &Entry{Actor: "mia", Action: ActionToolCall}
	err := l.Commit(context.Background(), e)
	if !errors.Is(err, ErrNotDurable) {
		t.Fatalf("Commit over a failing write = %v, want ErrNotDurable", err)
	}
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !m.has(e.ID) {
		t.Fatal("the entry of the failed write was dropped instead of written again")
	}
	if _, ok := e.Details[DetailCommitFailed]; !ok {
		t.Errorf("the late entry does not say its commit failed: %v", e.Details)
	}
}

func TestCommitAfterCloseWritesDirectly(t *testing.T) {
	m := &memStore{}
	l := New(m, zerolog.Nop())
	l.Close()
	e := &Entry{Action: ActionToolCall}
	if err := l.Commit(context.Background(), e); err != nil || !m.has(e.ID) {
		t.Fatalf("Commit after Close = %v, written %v", err, m.has(e.ID))
	}
}

func TestCloseGivesUpOnAStoreThatNeverRecovers(t *testing.T) {
	m := &memStore{}
	m.fail.Store(1 << 30)
	l := New(m, zerolog.Nop())
	l.Record(&Entry{Action: ActionToolCall})
	l.Close() // returns after closeAttempts instead of retrying forever
	if len(m.entries) != 0 {
		t.Fatal("a failing store wrote")
	}
}
