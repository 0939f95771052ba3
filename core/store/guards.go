package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
)

// GuardRepo stores guard records, uploaded modules and the guard settings.
type GuardRepo struct{ s *Store }

// Put creates or replaces a record, with the module's code when wasm is
// not nil, in one transaction.
func (r *GuardRepo) Put(ctx context.Context, g *toolguard.Record, wasm []byte) error {
	now := r.s.now()
	if g.CreatedAt.IsZero() {
		g.CreatedAt = now
	}
	g.UpdatedAt = now
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		if wasm != nil {
			if err := txn.Set(guardCodeKey(g.Name), wasm); err != nil {
				return err
			}
		}
		return putDoc(txn, guardKey(g.Name), g)
	})
	if err != nil {
		return fmt.Errorf("store guard %q: %w", g.Name, err)
	}
	return nil
}

// List returns every guard record, by name.
func (r *GuardRepo) List(ctx context.Context) ([]*toolguard.Record, error) {
	var out []*toolguard.Record
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		return scanDocs(txn, []byte(prefixGuard), func(g *toolguard.Record) (bool, error) {
			out = append(out, g)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list guards: %w", err)
	}
	return out, nil
}

// Code returns an uploaded module's code, or ErrNotFound.
func (r *GuardRepo) Code(ctx context.Context, name string) ([]byte, error) {
	var out []byte
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		var err error
		out, err = getValue(txn, guardCodeKey(name))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("guard %q code: %w", name, err)
	}
	return out, nil
}

// Delete removes a record and its code.
func (r *GuardRepo) Delete(ctx context.Context, name string) error {
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		if _, err := txn.Get(guardKey(name)); errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if err := txn.Delete(guardCodeKey(name)); err != nil {
			return err
		}
		return txn.Delete(guardKey(name))
	})
	if err != nil {
		return fmt.Errorf("delete guard %q: %w", name, err)
	}
	return nil
}

// GetTools implements toolguard.PinStore: nil when none are stored.
func (r *GuardRepo) GetTools(ctx context.Context, connectorID string) (*toolguard.ToolScan, error) {
	var s toolguard.ToolScan
	err := r.s.view(ctx, func(txn *badger.Txn) error { return getDoc(txn, toolPinKey(connectorID), &s) })
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tool pins of %s: %w", connectorID, err)
	}
	return &s, nil
}

// PutTools implements toolguard.PinStore.
func (r *GuardRepo) PutTools(ctx context.Context, connectorID string, s *toolguard.ToolScan) error {
	err := r.s.update(ctx, func(txn *badger.Txn) error { return putDoc(txn, toolPinKey(connectorID), s) })
	if err != nil {
		return fmt.Errorf("store tool pins of %s: %w", connectorID, err)
	}
	return nil
}
