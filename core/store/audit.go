package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
	jsonv2 "github.com/go-json-experiment/json"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

// AuditRepo is the append-only audit log: entries are written once under
// their time-ordered id and never changed; nothing here deletes them. Each
// configured sink has a delivery queue, filled in the same transaction as
// the log, so an entry is either logged and queued for every sink or not
// at all.
type AuditRepo struct {
	s     *Store
	mu    sync.RWMutex
	sinks []string
}

// AppendAudit implements audit.Store: every entry in one durable write.
func (r *AuditRepo) AppendAudit(ctx context.Context, entries ...*audit.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	type kv struct{ k, v []byte }
	r.mu.RLock()
	sinks := r.sinks
	r.mu.RUnlock()
	recs := make([]kv, 0, len(entries)*(1+len(sinks)))
	for _, e := range entries {
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode audit entry: %w", err)
		}
		recs = append(recs, kv{auditKey(e.ID), data})
		for _, sink := range sinks {
			recs = append(recs, kv{sinkQueueKey(sink, e.ID), data})
		}
	}
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		for _, rec := range recs {
			if err := txn.Set(rec.k, rec.v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append %d audit entries: %w", len(entries), err)
	}
	return nil
}

// ScanAudit implements audit.Store: entries in id (time) order from
// f.From or after f.After, before f.To, matching f, up to f.Limit.
func (r *AuditRepo) ScanAudit(ctx context.Context, f audit.Filter, fn func(*audit.Entry) (bool, error)) error {
	return r.s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: []byte(prefixAudit)})
		defer it.Close()
		start := auditKey("")
		if !f.From.IsZero() {
			start = auditKey(audit.IDFloor(f.From))
		}
		if f.After != "" && string(auditKey(f.After)) >= string(start) {
			start = append(auditKey(f.After), 0)
		}
		var stop []byte
		if !f.To.IsZero() {
			stop = auditKey(audit.IDFloor(f.To))
		}
		n := 0
		for it.Seek(start); it.Valid(); it.Next() {
			if stop != nil && string(it.Item().Key()) >= string(stop) {
				return nil
			}
			if n%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var e audit.Entry
			if err := it.Item().Value(func(v []byte) error { return jsonv2.Unmarshal(v, &e) }); err != nil {
				return fmt.Errorf("decode audit entry %s: %w", it.Item().Key(), err)
			}
			if !f.Match(&e) {
				continue
			}
			more, err := fn(&e)
			if err != nil || !more {
				return err
			}
			n++
			if f.Limit > 0 && n >= f.Limit {
				return nil
			}
		}
		return nil
	})
}

// SetSinks names the sinks whose queues appends fill, and drops the queues
// of sinks no longer configured. Call it once at start, before appending.
func (r *AuditRepo) SetSinks(ctx context.Context, names []string) error {
	r.mu.Lock()
	r.sinks = append([]string(nil), names...)
	r.mu.Unlock()
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	var stale [][]byte
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixSinkQueue)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			rest := string(it.Item().Key()[len(prefixSinkQueue):])
			if i := strings.IndexByte(rest, '/'); i > 0 && !keep[rest[:i]] {
				stale = append(stale, it.Item().KeyCopy(nil))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan sink queues: %w", err)
	}
	for len(stale) > 0 {
		n := min(len(stale), 1000)
		batch := stale[:n]
		stale = stale[n:]
		if err := r.s.update(ctx, func(txn *badger.Txn) error {
			for _, k := range batch {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("drop stale sink queues: %w", err)
		}
	}
	return nil
}

// PendingAudit returns up to n entries queued for sink, oldest first.
func (r *AuditRepo) PendingAudit(ctx context.Context, sink string, n int) ([]*audit.Entry, error) {
	var out []*audit.Entry
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		return scanDocs(txn, sinkQueuePrefix(sink), func(e *audit.Entry) (bool, error) {
			out = append(out, e)
			return len(out) < n, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read %s queue: %w", sink, err)
	}
	return out, nil
}

// AckAudit removes delivered entries from sink's queue.
func (r *AuditRepo) AckAudit(ctx context.Context, sink string, ids []string) error {
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		for _, id := range ids {
			if err := txn.Delete(sinkQueueKey(sink, id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ack %d entries on %s: %w", len(ids), sink, err)
	}
	return nil
}

// QueuedAudit counts the entries waiting for sink.
func (r *AuditRepo) QueuedAudit(ctx context.Context, sink string) (int, error) {
	n := 0
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: sinkQueuePrefix(sink)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	return n, err
}
