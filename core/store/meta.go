package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// MetaRepo is a small key/value space for install state (bootstrap markers,
// hashes of generated tokens). Values are stored as given, not encrypted:
// store hashes here, never secrets.
type MetaRepo struct{ s *Store }

// Get returns the value of key, or an error wrapping ErrNotFound.
func (r *MetaRepo) Get(ctx context.Context, key string) ([]byte, error) {
	var out []byte
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		var err error
		out, err = getValue(txn, metaKey(key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get meta %q: %w", key, err)
	}
	return out, nil
}

// Put sets key to value, replacing any previous value.
func (r *MetaRepo) Put(ctx context.Context, key string, value []byte) error {
	if key == "" {
		return errors.New("put meta: key is empty")
	}
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		return txn.Set(metaKey(key), value)
	})
	if err != nil {
		return fmt.Errorf("put meta %q: %w", key, err)
	}
	return nil
}

// PutIfAbsent sets key to value only when key has no value yet, and reports
// whether it did. Of several concurrent callers exactly one gets true, which
// makes it the primitive for do-once install steps such as generating the
// bootstrap admin token.
func (r *MetaRepo) PutIfAbsent(ctx context.Context, key string, value []byte) (bool, error) {
	if key == "" {
		return false, errors.New("put meta: key is empty")
	}
	var stored bool
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		stored = false
		_, err := txn.Get(metaKey(key))
		if err == nil {
			return nil
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		stored = true
		return txn.Set(metaKey(key), value)
	})
	if err != nil {
		return false, fmt.Errorf("put meta %q if absent: %w", key, err)
	}
	return stored, nil
}
