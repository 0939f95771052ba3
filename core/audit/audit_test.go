package audit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	box, err := secret.New(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenInMemory(box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func collect(t *testing.T, l *audit.Log, f audit.Filter) []*audit.Entry {
	t.Helper()
	var out []*audit.Entry
	if err := l.Query(context.Background(), f, func(e *audit.Entry) (bool, error) {
		out = append(out, e)
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestQuery(t *testing.T) {
	st := openStore(t)
	l := audit.New(st.Audit(), zerolog.Nop())
	defer l.Close()
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	entries := []audit.Entry{
		{Actor: "ada", Action: "connector.create", Target: "github", Connector: "github"},
		{Actor: "mia", Action: "tool.call", Connector: "github", Tool: "create_issue"},
		{Actor: "mia", Action: "tool.call", Connector: "files", Tool: "read", Outcome: audit.OutcomeDenied},
		{Actor: "ada", Action: "connector.status", Target: "files", Connector: "files"},
		{Actor: "max", Action: "request.create", Target: "r1"},
	}
	for i := range entries {
		entries[i].Time = base.Add(time.Duration(i) * time.Minute)
		if err := l.Append(context.Background(), &entries[i]); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(es []*audit.Entry) string {
		s := ""
		for _, e := range es {
			s += e.Actor + ":" + e.Action + " "
		}
		return s
	}
	tests := []struct {
		name string
		f    audit.Filter
		want string
	}{
		{"everything, oldest first", audit.Filter{}, "ada:connector.create mia:tool.call mia:tool.call ada:connector.status max:request.create "},
		{"by actor", audit.Filter{Actor: "mia"}, "mia:tool.call mia:tool.call "},
		{"by connector", audit.Filter{Connector: "files"}, "mia:tool.call ada:connector.status "},
		{"by exact action", audit.Filter{Action: "tool.call"}, "mia:tool.call mia:tool.call "},
		{"by action prefix", audit.Filter{Action: "connector."}, "ada:connector.create ada:connector.status "},
		{"by outcome", audit.Filter{Outcome: audit.OutcomeDenied}, "mia:tool.call "},
		{"by time range, To exclusive", audit.Filter{From: base.Add(time.Minute), To: base.Add(3 * time.Minute)}, "mia:tool.call mia:tool.call "},
		{"limit", audit.Filter{Limit: 2}, "ada:connector.create mia:tool.call "},
		{"from a cursor", audit.Filter{After: entries[2].ID}, "ada:connector.status max:request.create "},
		{"nothing before the log", audit.Filter{To: base}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(collect(t, l, tc.f)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("default outcome is success", func(t *testing.T) {
		if got := collect(t, l, audit.Filter{Actor: "max"}); got[0].Outcome != audit.OutcomeSuccess {
			t.Errorf("outcome %q", got[0].Outcome)
		}
	})
}

func TestRecordIsBatchedAndLosesNothing(t *testing.T) {
	st := openStore(t)
	var observed atomic.Int64
	l := audit.New(st.Audit(), zerolog.Nop(), func(*audit.Entry) { observed.Add(1) })
	const writers, each = 8, 500
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				l.Record(&audit.Entry{Actor: fmt.Sprintf("w%d", w), Action: audit.ActionToolCall, Tool: fmt.Sprint(i)})
			}
		}()
	}
	wg.Wait()
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(collect(t, l, audit.Filter{})); got != writers*each {
		t.Fatalf("%d entries after Flush, want %d", got, writers*each)
	}
	if observed.Load() != writers*each {
		t.Errorf("observers saw %d entries", observed.Load())
	}
	l.Close()
	l.Record(&audit.Entry{Actor: "late", Action: "tool.call"})
	if got := len(collect(t, l, audit.Filter{Actor: "late"})); got != 1 {
		t.Errorf("an entry recorded after Close was lost (%d)", got)
	}
}

// flaky fails its first writes, like a full disk that recovers.
type flaky struct {
	audit.Store
	failures atomic.Int64
}

func (f *flaky) AppendAudit(ctx context.Context, es ...*audit.Entry) error {
	if f.failures.Add(-1) >= 0 {
		return errors.New("disk full")
	}
	return f.Store.AppendAudit(ctx, es...)
}

func TestRecordRetriesAFailingStore(t *testing.T) {
	st := openStore(t)
	fl := &flaky{Store: st.Audit()}
	fl.failures.Store(2)
	l := audit.New(fl, zerolog.Nop())
	defer l.Close()
	l.Record(&audit.Entry{Actor: "mia", Action: audit.ActionToolCall})
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(collect(t, l, audit.Filter{})); got != 1 {
		t.Errorf("%d entries, want the one that failed twice", got)
	}
}

func TestRedact(t *testing.T) {
	e := audit.Entry{ID: "x", Actor: "mia", Action: "tool.call", Connector: "hr", Tool: "salary_lookup",
		Error: "employee 42 not found", Details: map[string]any{"args": "ssn"}, Sensitive: true, Outcome: "error"}
	r := e.Redact()
	if r.Tool != audit.Redacted || r.Error != audit.Redacted || r.Details != nil || !r.Redacted {
		t.Errorf("redacted entry %+v", r)
	}
	// The connector is hidden too: a sensitive connector is invisible to
	// readers outside its roles, so its slug is not theirs to learn.
	if r.Actor != "mia" || r.Connector != audit.Redacted || r.Outcome != "error" || r.Action != "tool.call" {
		t.Errorf("who/what/outcome lost, or the slug shown: %+v", r)
	}
	admin := audit.Entry{Actor: "ada", Action: "connector.credentials.set", Target: "hr", Connector: "hr", Sensitive: true,
		Details: map[string]any{"placeholders": []string{"HR_TOKEN"}}}.Redact()
	if admin.Target != audit.Redacted || admin.Connector != audit.Redacted || admin.Details != nil {
		t.Errorf("an admin action about a sensitive connector shows %+v", admin)
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"", time.Time{}, false},
		{"2026-11-24T00:00:00Z", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), false},
		{"24h", now.Add(-24 * time.Hour), false},
		{"1764000000", time.Unix(1764000000, 0).UTC(), false},
		{"yesterday", time.Time{}, true},
		{"-1h", time.Time{}, true},
	} {
		got, err := audit.ParseTime(tc.in, now)
		if (err != nil) != tc.err || !got.Equal(tc.want) {
			t.Errorf("ParseTime(%q) = %v, %v", tc.in, got, err)
		}
	}
}
