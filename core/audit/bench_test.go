package audit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// openDiskStore opens a store on disk, with the synced writes the gateway
// uses, so the benchmarks pay for fsync as the gateway does.
func openDiskStore(b *testing.B) *store.Store {
	b.Helper()
	box, err := secret.New(make([]byte, secret.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(context.Background(), b.TempDir(), box, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func callEntry() *audit.Entry {
	return &audit.Entry{Actor: "mia", Action: audit.ActionToolCall, Connector: "github", Tool: "search",
		Decision: "allow", Outcome: audit.OutcomeSuccess, LatencyMS: 1.5}
}

// BenchmarkLogRecord is the asynchronous path (Record, then one Flush at
// the end): the cost per entry of getting many entries durable when no
// caller waits for its own.
func BenchmarkLogRecord(b *testing.B) {
	l := audit.New(openDiskStore(b).Audit(), zerolog.Nop())
	defer l.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Record(callEntry())
		}
	})
	if err := l.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLogAppend writes each entry in its own synced write before
// returning (Append, as admin actions do): what durability costs without
// a group commit.
func BenchmarkLogAppend(b *testing.B) {
	l := audit.New(openDiskStore(b).Audit(), zerolog.Nop())
	defer l.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Append(ctx, callEntry()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkLogCommit is the tool-call path: each caller waits until its
// entry is durable, concurrent callers sharing one synced write (group
// commit). Compare with BenchmarkLogAppend at the same parallelism.
func BenchmarkLogCommit(b *testing.B) {
	for _, par := range []int{1, 8} {
		b.Run(fmt.Sprintf("callers=%dxGOMAXPROCS", par), func(b *testing.B) {
			l := audit.New(openDiskStore(b).Audit(), zerolog.Nop())
			defer l.Close()
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(par)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := l.Commit(ctx, callEntry()); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
