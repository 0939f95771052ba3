package store

import (
	"context"
	"fmt"
	"testing"
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
