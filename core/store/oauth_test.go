package store

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/gatehouse-mcp/gatehouse/core/secret"
)

func TestOAuthRepo(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	r := s.OAuth()

	t.Run("a sealed record is encrypted on disk and opens on read", func(t *testing.T) {
		if err := r.Put(ctx, "key-test", "k1", []byte("private key"), 0, true); err != nil {
			t.Fatal(err)
		}
		var raw []byte
		_ = s.db.View(func(txn *badger.Txn) error {
			var err error
			raw, err = getValue(txn, oauthKey("key-test", "k1"))
			return err
		})
		if bytes.Contains(raw, []byte("private key")) {
			t.Fatalf("sealed value stored in the clear: %q", raw)
		}
		got, err := r.Get(ctx, "key-test", "k1")
		if err != nil || string(got) != "private key" {
			t.Fatalf("Get = %q, %v", got, err)
		}
	})

	t.Run("a sealed record moved to another id does not open", func(t *testing.T) {
		_ = s.db.Update(func(txn *badger.Txn) error {
			raw, _ := getValue(txn, oauthKey("key-test", "k1"))
			return txn.Set(oauthKey("key-test", "k2"), raw)
		})
		if _, err := r.Get(ctx, "key-test", "k2"); !errors.Is(err, secret.ErrDecrypt) {
			t.Fatalf("Get of a moved sealed value: %v, want ErrDecrypt", err)
		}
		_ = r.Delete(ctx, "key-test", "k2")
	})

	t.Run("a missing record is ErrNotFound", func(t *testing.T) {
		if _, err := r.Get(ctx, "key-test", "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get: %v", err)
		}
	})

	t.Run("Take hands a record to exactly one of many concurrent callers", func(t *testing.T) {
		if err := r.Put(ctx, "code", "c1", []byte("grant"), 0, false); err != nil {
			t.Fatal(err)
		}
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := r.Take(ctx, "code", "c1")
				switch {
				case err == nil && string(v) == "grant":
					won.Add(1)
				case err != nil && !errors.Is(err, ErrNotFound):
					t.Errorf("Take: %v", err)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d callers took the code, want 1", won.Load())
		}
	})

	t.Run("Update sees the old value and replaces it", func(t *testing.T) {
		_ = r.Put(ctx, "rt", "r1", []byte("fresh"), 0, false)
		err := r.Update(ctx, "rt", "r1", func(old []byte, found bool) (OAuthChange, error) {
			if !found || string(old) != "fresh" {
				t.Errorf("old = %q, %v", old, found)
			}
			return OAuthChange{Value: []byte("used")}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := r.Get(ctx, "rt", "r1"); string(got) != "used" {
			t.Fatalf("after Update: %q", got)
		}
	})

	t.Run("an error from the Update function changes nothing and is returned", func(t *testing.T) {
		boom := errors.New("boom")
		err := r.Update(ctx, "rt", "r1", func([]byte, bool) (OAuthChange, error) {
			return OAuthChange{}, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update: %v", err)
		}
		if got, _ := r.Get(ctx, "rt", "r1"); string(got) != "used" {
			t.Fatalf("after failed Update: %q", got)
		}
	})

	t.Run("List returns one kind only", func(t *testing.T) {
		_ = r.Put(ctx, "key-test2", "x", []byte("other"), 0, true)
		got, err := r.List(ctx, "key-test")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || string(got["k1"]) != "private key" {
			t.Fatalf("List = %q", got)
		}
	})

	t.Run("bad names are refused", func(t *testing.T) {
		for _, c := range []struct{ kind, id string }{{"", "x"}, {"a/b", "x"}, {"a", ""}} {
			if err := r.Put(ctx, c.kind, c.id, nil, 0, false); err == nil {
				t.Errorf("Put(%q, %q) accepted", c.kind, c.id)
			}
		}
	})
}
