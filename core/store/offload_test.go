package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/secret"
)

// pattern is n bytes no two chunks of which are equal.
func pattern(n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = byte('a' + (i/7+i/OffloadChunkBytes)%26)
	}
	return out
}

func TestOffloadRepo(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := pattern(3*OffloadChunkBytes + 123)
	o := OffloadObject{ID: "obj1", User: "alice", Connector: "big", Text: true, Expires: time.Unix(100, 0)}
	if err := s.Offloads().Put(ctx, o, data); err != nil {
		t.Fatal(err)
	}
	got, err := s.Offloads().Get(ctx, "obj1")
	if err != nil || got.Size != int64(len(data)) || got.User != "alice" {
		t.Fatalf("Get = %+v, %v; want size %d of alice", got, err, len(data))
	}
	ranges := []struct {
		name    string
		off, n  int64
		wantLen int
	}{
		{"the whole output reads back identical", 0, got.Size, len(data)},
		{"a range inside one chunk", 10, 100, 100},
		{"a range across chunk boundaries", OffloadChunkBytes - 5, OffloadChunkBytes + 10, OffloadChunkBytes + 10},
		{"a range past the end is cut at the end", got.Size - 3, 100, 3},
		{"an empty range at the end", got.Size, 10, 0},
	}
	for _, tt := range ranges {
		t.Run(tt.name, func(t *testing.T) {
			b, err := s.Offloads().ReadRange(ctx, got, tt.off, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != tt.wantLen || !bytes.Equal(b, data[tt.off:tt.off+int64(tt.wantLen)]) {
				t.Fatalf("read %d bytes, want %d matching the stored ones", len(b), tt.wantLen)
			}
		})
	}
	t.Run("a range starting past the end is an error", func(t *testing.T) {
		if _, err := s.Offloads().ReadRange(ctx, got, got.Size+1, 1); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("list returns the record", func(t *testing.T) {
		list, err := s.Offloads().List(ctx)
		if err != nil || len(list) != 1 || list[0].ID != "obj1" {
			t.Fatalf("List = %+v, %v", list, err)
		}
	})
	t.Run("expire leaves a tombstone without bytes", func(t *testing.T) {
		if err := s.Offloads().Expire(ctx, got, time.Hour); err != nil {
			t.Fatal(err)
		}
		tomb, err := s.Offloads().Get(ctx, "obj1")
		if err != nil || !tomb.Gone {
			t.Fatalf("Get after expire = %+v, %v; want a tombstone", tomb, err)
		}
		if _, err := s.Offloads().ReadRange(ctx, got, 0, 10); !errors.Is(err, ErrNotFound) {
			t.Fatalf("read after expire: %v, want ErrNotFound", err)
		}
	})
	t.Run("delete removes the record", func(t *testing.T) {
		if err := s.Offloads().Delete(ctx, "obj1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Offloads().Get(ctx, "obj1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after delete: %v, want ErrNotFound", err)
		}
	})
}

func TestOffloadAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openAt(t, dir, 1)
	secretText := bytes.Repeat([]byte("tool-output-sekret-4242 "), 20000)
	if err := s.Offloads().Put(ctx, OffloadObject{ID: "x", User: "alice", Connector: "c", Text: true}, secretText); err != nil {
		t.Fatal(err)
	}
	t.Run("a chunk moved to another position fails to open", func(t *testing.T) {
		err := s.db.Update(func(txn *badger.Txn) error {
			v, err := getValue(txn, offloadChunkKey("x", 0))
			if err != nil {
				return err
			}
			return txn.Set(offloadChunkKey("x", 1), v)
		})
		if err != nil {
			t.Fatal(err)
		}
		o, _ := s.Offloads().Get(ctx, "x")
		if _, err := s.Offloads().ReadRange(ctx, o, OffloadChunkBytes, 10); !errors.Is(err, secret.ErrDecrypt) {
			t.Fatalf("read of a moved chunk: %v, want ErrDecrypt", err)
		}
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("no output byte appears in plaintext on disk", func(t *testing.T) {
		db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(badgerLogger{zerolog.Nop()}))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		values := rawValues(t, db, true)
		chunks := 0
		for k, v := range values {
			if bytes.HasPrefix([]byte(k), []byte(prefixOffloadChunk)) {
				chunks++
			}
			if bytes.Contains(v, []byte("tool-output-sekret-4242")) {
				t.Errorf("plaintext output under key %q", k)
			}
		}
		if chunks < 2 {
			t.Fatalf("only %d chunk values seen; the scan is not seeing the data", chunks)
		}
	})
}
