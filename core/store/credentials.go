package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// CredentialRepo stores each user's values for a connector's {PLACEHOLDER}s,
// sealed at rest and bound to the user and the connector, so one user's
// values can never be read back as another's. A connector's credentials are
// removed with it.
type CredentialRepo struct{ s *Store }

// Set merges values into the user's stored values for the connector; an
// empty value removes that name. It fails with ErrNotFound when the
// connector does not exist.
func (r *CredentialRepo) Set(ctx context.Context, user, slug string, values map[string]string) error {
	if user == "" {
		return fmt.Errorf("set credentials for connector %q: user is empty", slug)
	}
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		id, err := lookupID(txn, slug)
		if err != nil {
			return err
		}
		stored, err := r.load(txn, id, user)
		if err != nil {
			return err
		}
		for k, v := range values {
			if v == "" {
				delete(stored, k)
			} else {
				stored[k] = v
			}
		}
		if len(stored) == 0 {
			return txn.Delete(credKey(id, user))
		}
		data, err := json.Marshal(stored)
		if err != nil {
			return err
		}
		return txn.Set(credKey(id, user), r.s.box.Seal(data, credAAD(id, user)))
	})
	if err != nil {
		return fmt.Errorf("set credentials of %q for connector %q: %w", user, slug, err)
	}
	return nil
}

// Get returns the user's values for the connector: an empty map when the
// user has set none, an error wrapping ErrNotFound when the connector does
// not exist.
func (r *CredentialRepo) Get(ctx context.Context, user, slug string) (map[string]string, error) {
	var out map[string]string
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		id, err := lookupID(txn, slug)
		if err != nil {
			return err
		}
		out, err = r.load(txn, id, user)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get credentials of %q for connector %q: %w", user, slug, err)
	}
	return out, nil
}

// Delete removes all of the user's values for the connector. Deleting values
// that were never set is not an error; a missing connector is (ErrNotFound).
func (r *CredentialRepo) Delete(ctx context.Context, user, slug string) error {
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		id, err := lookupID(txn, slug)
		if err != nil {
			return err
		}
		return txn.Delete(credKey(id, user))
	})
	if err != nil {
		return fmt.Errorf("delete credentials of %q for connector %q: %w", user, slug, err)
	}
	return nil
}

// load returns the user's decrypted values for connector id, or an empty map.
func (r *CredentialRepo) load(txn *badger.Txn, id, user string) (map[string]string, error) {
	out := map[string]string{}
	sealed, err := getValue(txn, credKey(id, user))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	data, err := r.s.box.Open(sealed, credAAD(id, user))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("decode credentials: %w", err)
	}
	return out, nil
}

// DeleteAll removes every user's values for the connector (its URL moved
// to another host, so the values must be entered again) and returns how
// many users had some. A missing connector is an error (ErrNotFound).
func (r *CredentialRepo) DeleteAll(ctx context.Context, slug string) (int, error) {
	n := 0
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		id, err := lookupID(txn, slug)
		if err != nil {
			return err
		}
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = credPrefix(id)
		it := txn.NewIterator(opts)
		var keys [][]byte
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		it.Close()
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete credentials for connector %q: %w", slug, err)
	}
	return n, nil
}
