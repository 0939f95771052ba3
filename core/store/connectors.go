package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/dgraph-io/badger/v4"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

// ConnectorRepo stores connectors, keyed by id with a unique slug index.
// Secrets inside a connector are sealed at rest and opened transparently on
// read. Every method returns fresh copies: callers may modify what they get.
type ConnectorRepo struct{ s *Store }

// Create stores a new connector. c must already be normalized; Create
// validates it (errors wrap connector.ErrInvalid), assigns an id when c.ID is
// empty, sets CreatedAt and UpdatedAt to now (UTC) and Version to 1, and
// writes those back into c once the connector is stored. A taken slug or id
// yields an error wrapping ErrConflict.
func (r *ConnectorRepo) Create(ctx context.Context, c *connector.Connector) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := *c
	if rec.ID == "" {
		rec.ID = r.s.newID()
	} else if !idPattern.MatchString(rec.ID) {
		return fmt.Errorf("create connector %q: %w", c.Slug,
			&connector.FieldError{Field: "id", Message: "must be 1-64 letters, digits, dashes or underscores"})
	}
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("create connector %q: %w", c.Slug, err)
	}
	now := r.s.now()
	rec.CreatedAt, rec.UpdatedAt, rec.Version = now, now, 1
	data, err := r.s.encodeConnector(&rec)
	if err != nil {
		return err
	}
	err = r.s.update(ctx, func(txn *badger.Txn) error {
		if err := absent(txn, connSlugKey(rec.Slug), "slug"); err != nil {
			return err
		}
		if err := absent(txn, connIDKey(rec.ID), "id "+rec.ID); err != nil {
			return err
		}
		if err := txn.Set(connIDKey(rec.ID), data); err != nil {
			return err
		}
		return txn.Set(connSlugKey(rec.Slug), []byte(rec.ID))
	})
	if err != nil {
		return fmt.Errorf("create connector %q: %w", c.Slug, err)
	}
	c.ID, c.CreatedAt, c.UpdatedAt, c.Version = rec.ID, rec.CreatedAt, rec.UpdatedAt, rec.Version
	return nil
}

// absent fails with ErrConflict when key exists.
func absent(txn *badger.Txn, key []byte, what string) error {
	_, err := txn.Get(key)
	switch {
	case err == nil:
		return fmt.Errorf("%s is taken: %w", what, ErrConflict)
	case errors.Is(err, badger.ErrKeyNotFound):
		return nil
	default:
		return err
	}
}

// Get returns the connector with the given slug, or an error wrapping
// ErrNotFound. A secret that cannot be decrypted yields an error wrapping
// secret.ErrDecrypt.
func (r *ConnectorRepo) Get(ctx context.Context, slug string) (*connector.Connector, error) {
	var c *connector.Connector
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		var err error
		c, err = r.load(txn, slug)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get connector %q: %w", slug, err)
	}
	return c, nil
}

// List returns every connector, sorted by slug.
func (r *ConnectorRepo) List(ctx context.Context) ([]*connector.Connector, error) {
	var out []*connector.Connector
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(prefixConnByID)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			err := it.Item().Value(func(val []byte) error {
				c, err := r.s.decodeConnector(val)
				if err != nil {
					return err
				}
				out = append(out, c)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list connectors: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Slug < out[j].Slug })
	return out, nil
}

// Update changes the connector with the given slug by applying mutate to a
// fresh copy, in one transaction. When expectedVersion is not 0 and differs
// from the stored version it fails with ErrVersionMismatch. An error from
// mutate aborts the update and is returned wrapped. Afterwards Update
// restores ID and CreatedAt, bumps Version, sets UpdatedAt and validates
// the result; changing the slug or id is refused with an error wrapping
// connector.ErrInvalid.
//
// When a concurrent write wins the race, Update starts over with the new
// state, so mutate may run more than once and must only touch its argument.
func (r *ConnectorRepo) Update(ctx context.Context, slug string, expectedVersion int64, mutate func(*connector.Connector) error) (*connector.Connector, error) {
	var out *connector.Connector
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		c, err := r.load(txn, slug)
		if err != nil {
			return err
		}
		if expectedVersion != 0 && c.Version != expectedVersion {
			return fmt.Errorf("stored version is %d, not %d; reload and retry: %w",
				c.Version, expectedVersion, ErrVersionMismatch)
		}
		id, created, version := c.ID, c.CreatedAt, c.Version
		if err := mutate(c); err != nil {
			return err
		}
		if c.Slug != slug {
			return &connector.FieldError{Field: "slug", Message: "cannot be changed; create a new connector instead"}
		}
		if c.ID != id {
			return &connector.FieldError{Field: "id", Message: "cannot be changed"}
		}
		c.CreatedAt, c.UpdatedAt, c.Version = created, r.s.now(), version+1
		if err := c.Validate(); err != nil {
			return err
		}
		data, err := r.s.encodeConnector(c)
		if err != nil {
			return err
		}
		if err := txn.Set(connIDKey(id), data); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update connector %q: %w", slug, err)
	}
	return out, nil
}

// Delete removes the connector with the given slug and every user's
// credentials for it, or fails with an error wrapping ErrNotFound.
func (r *ConnectorRepo) Delete(ctx context.Context, slug string) error {
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		id, err := lookupID(txn, slug)
		if err != nil {
			return err
		}
		keys := [][]byte{connSlugKey(slug), connIDKey(id)}
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = credPrefix(id)
		it := txn.NewIterator(opts)
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		it.Close()
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete connector %q: %w", slug, err)
	}
	return nil
}

// load reads and decodes the connector with the given slug inside txn.
func (r *ConnectorRepo) load(txn *badger.Txn, slug string) (*connector.Connector, error) {
	id, err := lookupID(txn, slug)
	if err != nil {
		return nil, err
	}
	data, err := getValue(txn, connIDKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("slug index points at missing id %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var c connector.Connector
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if err := r.s.openSecrets(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// lookupID resolves a slug through the slug index.
func lookupID(txn *badger.Txn, slug string) (string, error) {
	id, err := getValue(txn, connSlugKey(slug))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	return string(id), nil
}
