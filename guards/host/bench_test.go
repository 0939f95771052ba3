package host

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// BenchmarkCall measures one Tool Call hook of the SDK test guard (JSON
// decode of the envelope, a scan, no findings) by payload size, with and
// without interruption (WithCloseOnContextDone).
func BenchmarkCall(b *testing.B) {
	for _, interruptible := range []bool{false, true} {
		h, err := New(context.Background(), Config{Interruptible: interruptible, Log: zerolog.Nop()})
		if err != nil {
			b.Fatal(err)
		}
		m, err := h.Load(context.Background(), "good", modules["good"], nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, size := range []int{1 << 10, 64 << 10} {
			input := callInput(strings.Repeat("lorem ipsum ", size/12))
			b.Run(fmt.Sprintf("interruptible=%v/%dKiB", interruptible, size>>10), func(b *testing.B) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
				defer cancel()
				b.SetBytes(int64(len(input)))
				for b.Loop() {
					if v, err := m.Call(ctx, guard.HookToolCall, input); err != nil || v.Action != guard.ActionAllow {
						b.Fatal(v, err)
					}
				}
			})
		}
		h.Close(context.Background())
	}
}

// BenchmarkConcurrent64 runs 64 concurrent callers against a pool capped
// at 2×GOMAXPROCS instances: callers queue for instances instead of
// creating one each.
func BenchmarkConcurrent64(b *testing.B) {
	h, err := New(context.Background(), Config{Interruptible: true, Log: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(context.Background())
	m, err := h.Load(context.Background(), "good", modules["good"], nil)
	if err != nil {
		b.Fatal(err)
	}
	input := callInput(strings.Repeat("lorem ipsum ", 1024/12))
	for b.Loop() {
		var wg sync.WaitGroup
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if _, err := m.Call(ctx, guard.HookToolCall, input); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(len(m.slots)), "instances")
}
