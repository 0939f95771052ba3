package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

func BenchmarkConnectorGet(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	mustCreate(b, s, httpConnector("github"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Connectors().Get(ctx, "github"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConnectorList1000(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	for i := range 1000 {
		mustCreate(b, s, httpConnector(fmt.Sprintf("connector-%04d", i)))
	}
	b.ReportAllocs()
	for b.Loop() {
		list, err := s.Connectors().List(ctx)
		if err != nil || len(list) != 1000 {
			b.Fatalf("List = %d, %v", len(list), err)
		}
	}
}

// BenchmarkAuditScan100k scans 100 000 tool-call entries, as analytics over
// a window does.
func BenchmarkAuditScan100k(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	const n = 100000
	base := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	batch := make([]*audit.Entry, 0, 1000)
	for i := 0; i < n; i++ {
		t := base.Add(time.Duration(i) * time.Millisecond)
		batch = append(batch, &audit.Entry{ID: audit.NewID(t), Time: t, Actor: "mia", Action: audit.ActionToolCall,
			Connector: "github", Tool: "search", Outcome: audit.OutcomeSuccess, LatencyMS: 1.5})
		if len(batch) == cap(batch) {
			if err := s.Audit().AppendAudit(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for b.Loop() {
		count := 0
		if err := s.Audit().ScanAudit(ctx, audit.Filter{Action: audit.ActionToolCall}, func(*audit.Entry) (bool, error) {
			count++
			return true, nil
		}); err != nil || count != n {
			b.Fatalf("scanned %d (%v)", count, err)
		}
	}
}
