// Package evaltest loads the guard-evaluation corpora for tests.
package evaltest

import (
	"os"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/guards/eval"
)

// Rows loads every corpus row (../shared/corpora beside the checkout,
// and guards/eval's own sets), failing t when the corpora are missing or
// hold fewer than min rows: they are part of the test set-up (CI has
// ../shared beside its clone), so a test that judges them never passes
// without them.
func Rows(t testing.TB, min int) []eval.Row {
	t.Helper()
	dir := eval.DefaultCorpora(".")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("no corpora at %s (../shared beside the checkout): %v", dir, err)
	}
	rows, err := eval.LoadAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < min {
		t.Fatalf("only %d corpus rows loaded from %s, want at least %d", len(rows), dir, min)
	}
	return rows
}
