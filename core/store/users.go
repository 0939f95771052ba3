package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

// UserRepo stores users. Their roles live with the policies (core/policy),
// their tokens in TokenRepo.
type UserRepo struct{ s *Store }

// Create stores a new user, setting its times and version 1 (written back
// into u). A taken id is ErrConflict.
func (r *UserRepo) Create(ctx context.Context, u *auth.User) error {
	defer r.s.credentialsChanged()
	if !auth.ValidUserID(u.ID) {
		return fmt.Errorf("create user %q: %w", u.ID, errInvalidUserID)
	}
	rec := *u
	now := r.s.now()
	rec.CreatedAt, rec.UpdatedAt, rec.Version = now, now, 1
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		if err := absent(txn, userKey(rec.ID), "user id"); err != nil {
			return err
		}
		return putDoc(txn, userKey(rec.ID), &rec)
	})
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.ID, err)
	}
	*u = rec
	return nil
}

var errInvalidUserID = errors.New("a user id is 1-64 lowercase letters, digits, '.', '_', '-' or '@', starting with a letter or digit")

// Get returns the user, or an error wrapping ErrNotFound.
func (r *UserRepo) Get(ctx context.Context, id string) (*auth.User, error) {
	var u auth.User
	err := r.s.view(ctx, func(txn *badger.Txn) error { return getDoc(txn, userKey(id), &u) })
	if err != nil {
		return nil, fmt.Errorf("get user %q: %w", id, err)
	}
	return &u, nil
}

// List returns every user, ordered by id.
func (r *UserRepo) List(ctx context.Context) ([]*auth.User, error) {
	var out []*auth.User
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		return scanDocs(txn, []byte(prefixUser), func(u *auth.User) (bool, error) {
			out = append(out, u)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// Update applies mutate to the stored user when its version is
// expectedVersion (0: any), bumping version and UpdatedAt.
func (r *UserRepo) Update(ctx context.Context, id string, expectedVersion int64, mutate func(*auth.User) error) (*auth.User, error) {
	defer r.s.credentialsChanged()
	var out auth.User
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		var u auth.User
		if err := getDoc(txn, userKey(id), &u); err != nil {
			return err
		}
		if expectedVersion != 0 && u.Version != expectedVersion {
			return fmt.Errorf("user is at version %d, not %d: %w", u.Version, expectedVersion, ErrVersionMismatch)
		}
		if err := mutate(&u); err != nil {
			return err
		}
		u.ID = id
		u.Version++
		u.UpdatedAt = r.s.now()
		out = u
		return putDoc(txn, userKey(id), &u)
	})
	if err != nil {
		return nil, fmt.Errorf("update user %q: %w", id, err)
	}
	return &out, nil
}

// Delete removes the user and revokes every token of theirs in the same
// transaction: no token outlives its user.
func (r *UserRepo) Delete(ctx context.Context, id string) error {
	defer r.s.credentialsChanged()
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		if _, err := txn.Get(userKey(id)); errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if err := revokeUserTokens(txn, id, r.s.now()); err != nil {
			return err
		}
		return txn.Delete(userKey(id))
	})
	if err != nil {
		return fmt.Errorf("delete user %q: %w", id, err)
	}
	return nil
}
