package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/gatehouse-mcp/gatehouse/core/catalog"
)

// TemplateRepo stores the catalog templates admins add (the built-in ones
// ship with the binary).
type TemplateRepo struct{ s *Store }

// Create stores t; a taken id is ErrConflict.
func (r *TemplateRepo) Create(ctx context.Context, t *catalog.Template) error {
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		if err := absent(txn, templateKey(t.ID), "template id"); err != nil {
			return err
		}
		return putDoc(txn, templateKey(t.ID), t)
	})
	if err != nil {
		return fmt.Errorf("create template %q: %w", t.ID, err)
	}
	return nil
}

// List returns the custom templates, sorted by id.
func (r *TemplateRepo) List(ctx context.Context) ([]*catalog.Template, error) {
	var out []*catalog.Template
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		return scanDocs(txn, []byte(prefixTemplate), func(t *catalog.Template) (bool, error) {
			out = append(out, t)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	return out, nil
}

// Delete removes a custom template, or fails with ErrNotFound.
func (r *TemplateRepo) Delete(ctx context.Context, id string) error {
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		if _, err := txn.Get(templateKey(id)); errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		return txn.Delete(templateKey(id))
	})
	if err != nil {
		return fmt.Errorf("delete template %q: %w", id, err)
	}
	return nil
}

// RequestRepo stores connector requests. Ids are time-ordered.
type RequestRepo struct{ s *Store }

// Create stores a new pending request unless the same requester already
// has a pending request for the same subject (ErrConflict): the check and
// the write are one transaction, so two racing duplicates cannot both land.
func (r *RequestRepo) Create(ctx context.Context, req *catalog.Request) error {
	rec := *req
	now := r.s.now()
	rec.ID = fmt.Sprintf("%016x", uint64(now.UnixNano())) + r.s.newID()[:8]
	rec.Status, rec.CreatedAt, rec.UpdatedAt, rec.Version = catalog.StatusPending, now, now, 1
	subject := rec.Subject()
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		dup := ""
		err := scanDocs(txn, []byte(prefixRequest), func(o *catalog.Request) (bool, error) {
			if o.Status == catalog.StatusPending && o.Requester == rec.Requester && o.Subject() == subject {
				dup = o.ID
				return false, nil
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		if dup != "" {
			return fmt.Errorf("request %s for the same connector is still pending: %w", dup, ErrConflict)
		}
		return putDoc(txn, requestKey(rec.ID), &rec)
	})
	if err != nil {
		return fmt.Errorf("create request: %w", err)
	}
	*req = rec
	return nil
}

// Get returns the request, or ErrNotFound.
func (r *RequestRepo) Get(ctx context.Context, id string) (*catalog.Request, error) {
	var out catalog.Request
	if err := r.s.view(ctx, func(txn *badger.Txn) error { return getDoc(txn, requestKey(id), &out) }); err != nil {
		return nil, fmt.Errorf("get request %q: %w", id, err)
	}
	return &out, nil
}

// List returns requests, oldest first, filtered by requester and status
// when those are non-empty.
func (r *RequestRepo) List(ctx context.Context, requester, status string) ([]*catalog.Request, error) {
	var out []*catalog.Request
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		return scanDocs(txn, []byte(prefixRequest), func(o *catalog.Request) (bool, error) {
			if (requester == "" || o.Requester == requester) && (status == "" || o.Status == status) {
				out = append(out, o)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return out, nil
}

// Update applies mutate to the stored request when its version is
// expectedVersion (0: any), bumping version and UpdatedAt. mutate's error
// is returned as is (wrapped), and nothing is written.
func (r *RequestRepo) Update(ctx context.Context, id string, expectedVersion int64, mutate func(*catalog.Request) error) (*catalog.Request, error) {
	var out catalog.Request
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		var o catalog.Request
		if err := getDoc(txn, requestKey(id), &o); err != nil {
			return err
		}
		if expectedVersion != 0 && o.Version != expectedVersion {
			return fmt.Errorf("request is at version %d, not %d: %w", o.Version, expectedVersion, ErrVersionMismatch)
		}
		if err := mutate(&o); err != nil {
			return err
		}
		o.ID = id
		o.Version++
		o.UpdatedAt = r.s.now()
		out = o
		return putDoc(txn, requestKey(id), &o)
	})
	if err != nil {
		return nil, fmt.Errorf("update request %q: %w", id, err)
	}
	return &out, nil
}
