package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

// AuditRepo is the append-only audit log: entries are written once under
// their time-ordered id and never changed; nothing here deletes them.
type AuditRepo struct{ s *Store }

// AppendAudit implements audit.Store: every entry in one durable write.
func (r *AuditRepo) AppendAudit(ctx context.Context, entries ...*audit.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	type kv struct{ k, v []byte }
	recs := make([]kv, len(entries))
	for i, e := range entries {
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode audit entry: %w", err)
		}
		recs[i] = kv{auditKey(e.ID), data}
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
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &e) }); err != nil {
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
