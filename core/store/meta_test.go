package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestMeta(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	meta := s.Meta()

	t.Run("a missing key is ErrNotFound", func(t *testing.T) {
		if _, err := meta.Get(ctx, "installed"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get = %v", err)
		}
	})

	t.Run("a put value is read back and can be replaced", func(t *testing.T) {
		for _, v := range []string{"one", "two"} {
			if err := meta.Put(ctx, "k", []byte(v)); err != nil {
				t.Fatal(err)
			}
			got, err := meta.Get(ctx, "k")
			if err != nil || string(got) != v {
				t.Fatalf("Get = %q, %v; want %q", got, err, v)
			}
		}
	})

	t.Run("put-if-absent stores only the first value", func(t *testing.T) {
		for i, want := range []bool{true, false} {
			stored, err := meta.PutIfAbsent(ctx, "once", []byte{byte(i)})
			if err != nil || stored != want {
				t.Fatalf("call %d: PutIfAbsent = %v, %v; want %v", i, stored, err, want)
			}
		}
		if got, _ := meta.Get(ctx, "once"); len(got) != 1 || got[0] != 0 {
			t.Fatalf("value = %v, want the first", got)
		}
	})

	t.Run("of concurrent put-if-absent callers exactly one wins", func(t *testing.T) {
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				stored, err := meta.PutIfAbsent(ctx, "race", []byte{byte(i)})
				if err != nil {
					t.Error(err)
				}
				if stored {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("%d winners, want 1", n)
		}
	})

	t.Run("an empty key is refused", func(t *testing.T) {
		if err := meta.Put(ctx, "", []byte("x")); err == nil {
			t.Fatal("Put accepted an empty key")
		}
	})
}
