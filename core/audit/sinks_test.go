package audit_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

// waitFor polls cond without asserting any timing: it fails only when the
// condition never holds within a generous bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWebhookSinkDownThenUpLosesNothingAndKeepsOrder(t *testing.T) {
	st := openStore(t)
	if err := st.Audit().SetSinks(context.Background(), []string{"siem"}); err != nil {
		t.Fatal(err)
	}
	var up atomic.Bool
	var mu sync.Mutex
	var got []string
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		var batch []audit.Entry
		if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		auth = r.Header.Get("Authorization")
		for _, e := range batch {
			got = append(got, e.Target)
		}
		mu.Unlock()
	}))
	defer srv.Close()
	d := audit.NewDispatcher("siem", audit.NewWebhookSink(srv.URL, map[string]string{"Authorization": "Bearer siem"}, nil), st.Audit(), 7, 5*time.Second, zerolog.Nop())
	defer d.Close()
	l := audit.New(st.Audit(), zerolog.Nop(), d.Wake)
	defer l.Close()
	const n = 50
	for i := 0; i < n; i++ {
		// Appends succeed while the sink is down: the gateway never waits on it.
		if err := l.Append(context.Background(), &audit.Entry{Actor: "ada", Action: "connector.update", Target: string(rune('A'+i%26)) + strings.Repeat("x", i/26)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a failed delivery", func() bool { _, f, _ := d.Stats(); return f > 0 })
	if q, _ := st.Audit().QueuedAudit(context.Background(), "siem"); q != n {
		t.Fatalf("%d queued while the sink is down, want %d", q, n)
	}
	up.Store(true)
	waitFor(t, "every entry delivered", func() bool { del, _, _ := d.Stats(); return del == n })
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < n; i++ {
		want := string(rune('A'+i%26)) + strings.Repeat("x", i/26)
		if got[i] != want {
			t.Fatalf("entry %d is %q, want %q (order lost)", i, got[i], want)
		}
	}
	if auth != "Bearer siem" {
		t.Errorf("Authorization %q", auth)
	}
	if q, _ := st.Audit().QueuedAudit(context.Background(), "siem"); q != 0 {
		t.Errorf("%d still queued", q)
	}
}

func TestFileSinkRotates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	f := audit.NewFileSink(path, 1, 3, 0, false)
	big := strings.Repeat("d", 4000)
	for i := 0; i < 400; i++ { // ~1.6 MB: one rotation at 1 MB
		if err := f.Deliver(context.Background(), []*audit.Entry{{ID: "e", Actor: "ada", Action: "x", Details: map[string]any{"pad": big}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "audit*.jsonl"))
	if len(files) < 2 {
		t.Fatalf("files %v, want a rotated one beside the current", files)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e audit.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Actor != "ada" {
			t.Fatalf("line is not a whole entry: %.80q (%v)", line, err)
		}
	}
}

func TestSyslogSink(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := audit.NewSyslogSink("udp", pc.LocalAddr().String(), "gatehouse-test")
	defer s.Close()
	if err := s.Deliver(context.Background(), []*audit.Entry{
		{ID: "1", Actor: "mia", Action: "tool.call", Outcome: audit.OutcomeSuccess},
		{ID: "2", Actor: "mia", Action: "tool.call", Outcome: audit.OutcomeDenied},
	}); err != nil {
		t.Fatal(err)
	}
	_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	var msgs []string
	for len(msgs) < 2 {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %d messages: %v", len(msgs), err)
		}
		msgs = append(msgs, string(buf[:n]))
	}
	// <38> = auth(4)*8 + info(6); <36> = auth*8 + warning(4).
	if !strings.HasPrefix(msgs[0], "<38>") || !strings.Contains(msgs[0], "gatehouse-test") || !strings.Contains(msgs[0], `"actor":"mia"`) {
		t.Errorf("first message %q", msgs[0])
	}
	if !strings.HasPrefix(msgs[1], "<36>") {
		t.Errorf("a denied call is not a warning: %q", msgs[1])
	}
}

type capture struct {
	mu  sync.Mutex
	got []*audit.Entry
}

func (c *capture) Deliver(_ context.Context, es []*audit.Entry) error {
	c.mu.Lock()
	c.got = append(c.got, es...)
	c.mu.Unlock()
	return nil
}
func (c *capture) Close() error { return nil }

func TestRedactingSink(t *testing.T) {
	c := &capture{}
	s := audit.Redacting(c)
	in := []*audit.Entry{{ID: "1", Tool: "salary", Sensitive: true}, {ID: "2", Tool: "search"}}
	if err := s.Deliver(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if c.got[0].Tool != audit.Redacted || c.got[1].Tool != "search" || in[0].Tool != "salary" {
		t.Errorf("got %+v %+v; input changed: %v", c.got[0], c.got[1], in[0].Tool)
	}
}

func TestSinkQueuesOfRemovedSinksAreDropped(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	if err := st.Audit().SetSinks(ctx, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	l := audit.New(st.Audit(), zerolog.Nop())
	defer l.Close()
	if err := l.Append(ctx, &audit.Entry{Actor: "x", Action: "y"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Audit().SetSinks(ctx, []string{"b"}); err != nil {
		t.Fatal(err)
	}
	qa, _ := st.Audit().QueuedAudit(ctx, "a")
	qb, _ := st.Audit().QueuedAudit(ctx, "b")
	if qa != 0 || qb != 1 {
		t.Errorf("queued a=%d b=%d, want 0 and 1", qa, qb)
	}
}
