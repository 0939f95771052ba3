package upstream_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// note builds a distinguishable notification.
func note(t *testing.T, method string) *mcp.Message {
	t.Helper()
	m, err := mcp.NewNotification(method, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// drain reads a stream to its end and returns the methods read and the final error.
func drain(t *testing.T, s upstream.Stream) ([]string, error) {
	t.Helper()
	var got []string
	for {
		m, err := s.Next(context.Background())
		if err != nil {
			return got, err
		}
		got = append(got, m.Method)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestQueue(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name        string
		limit       int
		push        []string
		finish      error
		want        []string
		wantErr     error
		wantDropped int
	}{
		{name: "messages come out in the order they went in", push: []string{"a", "b", "c"}, want: []string{"a", "b", "c"}, wantErr: io.EOF},
		{name: "Finish with nil ends the stream with io.EOF", push: []string{"a"}, want: []string{"a"}, wantErr: io.EOF},
		{name: "Finish drains the queue then returns its error", push: []string{"a", "b"}, finish: boom, want: []string{"a", "b"}, wantErr: boom},
		{name: "an empty finished queue returns the error at once", finish: boom, wantErr: boom},
		{name: "the limit drops the oldest messages and counts them", limit: 2, push: []string{"a", "b", "c", "d"}, want: []string{"c", "d"}, wantErr: io.EOF, wantDropped: 2},
		{name: "a queue within its limit drops nothing", limit: 5, push: []string{"a", "b"}, want: []string{"a", "b"}, wantErr: io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := upstream.NewQueue(tt.limit)
			for _, m := range tt.push {
				if !q.Push(note(t, m)) {
					t.Fatalf("Push(%s) refused on an open queue", m)
				}
			}
			q.Finish(tt.finish)
			got, err := drain(t, q)
			if !equal(got, tt.want) {
				t.Errorf("read %v, want %v", got, tt.want)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("final error %v, want %v", err, tt.wantErr)
			}
			if _, again := q.Next(context.Background()); !errors.Is(again, tt.wantErr) {
				t.Errorf("Next after the end = %v, want %v again", again, tt.wantErr)
			}
			if q.Dropped() != tt.wantDropped {
				t.Errorf("Dropped = %d, want %d", q.Dropped(), tt.wantDropped)
			}
		})
	}
}

func TestQueueLifecycle(t *testing.T) {
	t.Run("Push after Finish is refused", func(t *testing.T) {
		q := upstream.NewQueue(0)
		q.Finish(nil)
		if q.Push(note(t, "a")) {
			t.Error("Push accepted a message after Finish")
		}
	})
	t.Run("a second Finish keeps the first error", func(t *testing.T) {
		q := upstream.NewQueue(0)
		first := errors.New("first")
		q.Finish(first)
		q.Finish(errors.New("second"))
		if _, err := q.Next(context.Background()); !errors.Is(err, first) {
			t.Errorf("Next = %v, want the first error", err)
		}
	})
	t.Run("Close drops what is queued and ends the stream with ErrClosed", func(t *testing.T) {
		q := upstream.NewQueue(0)
		q.Push(note(t, "a"))
		q.Close()
		if _, err := q.Next(context.Background()); !errors.Is(err, upstream.ErrClosed) {
			t.Errorf("Next = %v, want ErrClosed", err)
		}
		if q.Push(note(t, "b")) {
			t.Error("Push accepted a message after Close")
		}
	})
	t.Run("Close runs the hook once", func(t *testing.T) {
		q := upstream.NewQueue(0)
		calls := 0
		q.OnClose(func() { calls++ })
		q.Close()
		q.Close()
		if calls != 1 {
			t.Errorf("hook ran %d times, want 1", calls)
		}
	})
	t.Run("Finish does not run the close hook", func(t *testing.T) {
		q := upstream.NewQueue(0)
		calls := 0
		q.OnClose(func() { calls++ })
		q.Finish(nil)
		if calls != 0 {
			t.Errorf("hook ran %d times, want 0", calls)
		}
	})
	t.Run("Next on an empty queue honours a cancelled context", func(t *testing.T) {
		q := upstream.NewQueue(0)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := q.Next(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Next = %v, want context.Canceled", err)
		}
	})
	t.Run("a blocked Next returns when its context is cancelled", func(t *testing.T) {
		q := upstream.NewQueue(0)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			_, err := q.Next(ctx)
			done <- err
		}()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Next = %v, want context.Canceled", err)
		}
	})
	t.Run("queued messages are returned even with a cancelled context", func(t *testing.T) {
		q := upstream.NewQueue(0)
		q.Push(note(t, "a"))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if m, err := q.Next(ctx); err != nil || m.Method != "a" {
			t.Errorf("Next = %v, %v; want the queued message", m, err)
		}
	})
	t.Run("a blocked Next wakes up for a Push", func(t *testing.T) {
		q := upstream.NewQueue(0)
		got := make(chan string)
		go func() {
			m, err := q.Next(context.Background())
			if err != nil {
				got <- err.Error()
				return
			}
			got <- m.Method
		}()
		q.Push(note(t, "a"))
		if m := <-got; m != "a" {
			t.Errorf("Next returned %q, want a", m)
		}
	})
	t.Run("Finish wakes every blocked reader", func(t *testing.T) {
		q := upstream.NewQueue(0)
		const readers = 4
		done := make(chan error, readers)
		for range readers {
			go func() {
				_, err := q.Next(context.Background())
				done <- err
			}()
		}
		q.Finish(nil)
		for range readers {
			if err := <-done; !errors.Is(err, io.EOF) {
				t.Errorf("reader got %v, want io.EOF", err)
			}
		}
	})
}

func BenchmarkQueuePushNext(b *testing.B) {
	q := upstream.NewQueue(0)
	m, _ := mcp.NewNotification("notifications/progress", nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		q.Push(m)
		if _, err := q.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
