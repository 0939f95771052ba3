package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// OffloadChunkBytes is the plaintext size of one stored chunk of an
// offloaded output: a range read opens only the chunks it covers.
const OffloadChunkBytes = 256 << 10

// OffloadObject describes one offloaded tool output (core/offload). The
// record itself is not secret (who, which connector, how big, until
// when); the output's bytes are sealed chunk by chunk.
type OffloadObject struct {
	ID        string `json:"id"`
	User      string `json:"user"`
	Connector string `json:"connector"`
	Tool      string `json:"tool,omitempty"`
	MimeType  string `json:"mime_type,omitempty"`
	// Text: the bytes are UTF-8 text (read back as text, ranges on rune
	// boundaries); otherwise binary (read back as a base64 blob).
	Text    bool      `json:"text,omitempty"`
	Size    int64     `json:"size"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Gone marks a tombstone: the output expired and its bytes were
	// removed; the record stays a while so its owner learns "expired".
	Gone bool `json:"gone,omitempty"`
}

// OffloadRepo keeps offloaded tool outputs: off/obj/<id> the record as
// JSON, off/chunk/<id>/<n> chunk n (OffloadChunkBytes of plaintext)
// sealed with aad "offload/<id>/<n>", so a chunk cannot be moved to
// another output or position undetected.
type OffloadRepo struct{ s *Store }

// Offloads returns the offloaded-output repository.
func (s *Store) Offloads() *OffloadRepo { return &s.offloads }

func offloadObjKey(id string) []byte { return []byte(prefixOffloadObj + id) }
func offloadChunkPrefix(id string) []byte {
	return []byte(prefixOffloadChunk + id + "/")
}
func offloadChunkKey(id string, n int) []byte {
	return []byte(prefixOffloadChunk + id + "/" + fmt.Sprintf("%08d", n))
}
func offloadAAD(id string, n int) []byte { return []byte("offload/" + id + "/" + strconv.Itoa(n)) }

// Put stores o and its bytes: the sealed chunks first (in as many
// transactions as their size needs), the record last, so a reader never
// sees a record whose bytes are not all there.
func (r *OffloadRepo) Put(ctx context.Context, o OffloadObject, data []byte) error {
	if o.ID == "" {
		return errors.New("put offload: id is empty")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	o.Size = int64(len(data))
	wb := r.s.db.NewWriteBatch()
	defer wb.Cancel()
	for n := 0; n*OffloadChunkBytes < len(data); n++ {
		end := min((n+1)*OffloadChunkBytes, len(data))
		if err := wb.Set(offloadChunkKey(o.ID, n), r.s.box.Seal(data[n*OffloadChunkBytes:end], offloadAAD(o.ID, n))); err != nil {
			return fmt.Errorf("put offload %s: %w", o.ID, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("put offload %s: %w", o.ID, err)
	}
	rec, err := json.Marshal(o)
	if err != nil {
		return err
	}
	if err := r.s.update(ctx, func(txn *badger.Txn) error { return txn.Set(offloadObjKey(o.ID), rec) }); err != nil {
		return fmt.Errorf("put offload %s: %w", o.ID, err)
	}
	return nil
}

// Get returns the record of id, or an error wrapping ErrNotFound.
func (r *OffloadRepo) Get(ctx context.Context, id string) (OffloadObject, error) {
	var o OffloadObject
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		raw, err := getValue(txn, offloadObjKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, &o)
	})
	if err != nil {
		return OffloadObject{}, fmt.Errorf("get offload %s: %w", id, err)
	}
	return o, nil
}

// ReadRange returns n bytes of o from offset off (fewer at the end),
// opening only the chunks the range covers.
func (r *OffloadRepo) ReadRange(ctx context.Context, o OffloadObject, off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off > o.Size {
		return nil, fmt.Errorf("read offload %s: range %d+%d outside 0..%d", o.ID, off, n, o.Size)
	}
	end := min(off+n, o.Size)
	out := make([]byte, 0, end-off)
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		for c := int(off / OffloadChunkBytes); int64(c)*OffloadChunkBytes < end; c++ {
			sealed, err := getValue(txn, offloadChunkKey(o.ID, c))
			if errors.Is(err, badger.ErrKeyNotFound) {
				return fmt.Errorf("chunk %d: %w", c, ErrNotFound)
			}
			if err != nil {
				return err
			}
			plain, err := r.s.box.Open(sealed, offloadAAD(o.ID, c))
			if err != nil {
				return fmt.Errorf("chunk %d: %w", c, err)
			}
			base := int64(c) * OffloadChunkBytes
			lo, hi := max(off-base, 0), min(end-base, int64(len(plain)))
			out = append(out, plain[lo:hi]...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read offload %s: %w", o.ID, err)
	}
	return out, nil
}

// Expire removes o's bytes and leaves a tombstone record that Badger
// drops after keep (its owner is told "expired" meanwhile).
func (r *OffloadRepo) Expire(ctx context.Context, o OffloadObject, keep time.Duration) error {
	if err := r.dropChunks(ctx, o.ID); err != nil {
		return err
	}
	o.Gone = true
	rec, err := json.Marshal(o)
	if err != nil {
		return err
	}
	err = r.s.update(ctx, func(txn *badger.Txn) error {
		return txn.SetEntry(badger.NewEntry(offloadObjKey(o.ID), rec).WithTTL(keep))
	})
	if err != nil {
		return fmt.Errorf("expire offload %s: %w", o.ID, err)
	}
	return nil
}

// Delete removes id's record and bytes.
func (r *OffloadRepo) Delete(ctx context.Context, id string) error {
	if err := r.dropChunks(ctx, id); err != nil {
		return err
	}
	if err := r.s.update(ctx, func(txn *badger.Txn) error { return txn.Delete(offloadObjKey(id)) }); err != nil {
		return fmt.Errorf("delete offload %s: %w", id, err)
	}
	return nil
}

// dropChunks deletes every chunk of id (in batches: a large output's
// chunk keys may not fit one transaction).
func (r *OffloadRepo) dropChunks(ctx context.Context, id string) error {
	var keys [][]byte
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: offloadChunkPrefix(id)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("drop offload %s: %w", id, err)
	}
	wb := r.s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			return fmt.Errorf("drop offload %s: %w", id, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("drop offload %s: %w", id, err)
	}
	return nil
}

// List returns every record, tombstones included (to rebuild the
// quotas' usage at start).
func (r *OffloadRepo) List(ctx context.Context) ([]OffloadObject, error) {
	var out []OffloadObject
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixOffloadObj), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var o OffloadObject
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &o) }); err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list offloads: %w", err)
	}
	return out, nil
}
