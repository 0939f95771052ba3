package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Helpers for records stored as plain JSON documents (users, tokens,
// requests, templates, audit entries): none of them holds a secret in the
// clear. Connectors, which do, have their own encoding (record.go).

// getDoc decodes key's JSON value into v; a missing key is ErrNotFound.
func getDoc(txn *badger.Txn, key []byte, v any) error {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return item.Value(func(val []byte) error {
		if err := json.Unmarshal(val, v); err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		return nil
	})
}

// putDoc stores v's JSON under key.
func putDoc(txn *badger.Txn, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return txn.Set(key, data)
}

// scanDocs decodes every value under prefix, in key order, and hands each to
// fn until fn returns false or an error.
func scanDocs[T any](txn *badger.Txn, prefix []byte, fn func(*T) (bool, error)) error {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64, Prefix: prefix})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var v T
		err := it.Item().Value(func(val []byte) error { return json.Unmarshal(val, &v) })
		if err != nil {
			return fmt.Errorf("decode %s: %w", it.Item().Key(), err)
		}
		more, err := fn(&v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}
