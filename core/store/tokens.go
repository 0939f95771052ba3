package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

// TokenRepo stores API token records: digests, never tokens, with a digest
// index for authentication. Revoked tokens are kept (for the audit trail)
// but never authenticate.
type TokenRepo struct{ s *Store }

// Create stores t, assigning its id and creation time (written back into
// t). The user must exist.
func (r *TokenRepo) Create(ctx context.Context, t *auth.Token) error {
	defer r.s.credentialsChanged()
	rec := *t
	rec.ID = r.s.newID()[:16]
	rec.CreatedAt = r.s.now()
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		if _, err := txn.Get(userKey(rec.User)); errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("user %q: %w", rec.User, ErrNotFound)
		} else if err != nil {
			return err
		}
		if err := absent(txn, tokenDigestKey(rec.Digest), "token digest"); err != nil {
			return err
		}
		if err := putDoc(txn, tokenIDKey(rec.ID), &rec); err != nil {
			return err
		}
		return txn.Set(tokenDigestKey(rec.Digest), []byte(rec.ID))
	})
	if err != nil {
		return fmt.Errorf("create token for %q: %w", t.User, err)
	}
	*t = rec
	return nil
}

// ByDigest returns the token whose digest (hex) is given, or ErrNotFound.
func (r *TokenRepo) ByDigest(ctx context.Context, digest string) (*auth.Token, error) {
	var t auth.Token
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		id, err := getValue(txn, tokenDigestKey(digest))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return getDoc(txn, tokenIDKey(string(id)), &t)
	})
	if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	return &t, nil
}

// Get returns the token record with the given id, or ErrNotFound.
func (r *TokenRepo) Get(ctx context.Context, id string) (*auth.Token, error) {
	var t auth.Token
	if err := r.s.view(ctx, func(txn *badger.Txn) error { return getDoc(txn, tokenIDKey(id), &t) }); err != nil {
		return nil, fmt.Errorf("get token %q: %w", id, err)
	}
	return &t, nil
}

// List returns the token records of user, or of everyone when user is "",
// oldest first.
func (r *TokenRepo) List(ctx context.Context, user string) ([]*auth.Token, error) {
	var out []*auth.Token
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		return scanDocs(txn, []byte(prefixTokenByID), func(t *auth.Token) (bool, error) {
			if user == "" || t.User == user {
				out = append(out, t)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	sortTokens(out)
	return out, nil
}

// Revoke marks the token revoked at now. Revoking twice is a no-op that
// keeps the first time.
func (r *TokenRepo) Revoke(ctx context.Context, id string) (*auth.Token, error) {
	defer r.s.credentialsChanged()
	var out auth.Token
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		if err := getDoc(txn, tokenIDKey(id), &out); err != nil {
			return err
		}
		if out.RevokedAt != nil {
			return nil
		}
		now := r.s.now()
		out.RevokedAt = &now
		return putDoc(txn, tokenIDKey(id), &out)
	})
	if err != nil {
		return nil, fmt.Errorf("revoke token %q: %w", id, err)
	}
	return &out, nil
}

// revokeUserTokens revokes, inside txn, every live token of user.
func revokeUserTokens(txn *badger.Txn, user string, now time.Time) error {
	var live []*auth.Token
	err := scanDocs(txn, []byte(prefixTokenByID), func(t *auth.Token) (bool, error) {
		if t.User == user && t.RevokedAt == nil {
			live = append(live, t)
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, t := range live {
		t.RevokedAt = &now
		if err := putDoc(txn, tokenIDKey(t.ID), t); err != nil {
			return err
		}
	}
	return nil
}

func sortTokens(ts []*auth.Token) {
	slices.SortFunc(ts, func(a, b *auth.Token) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
