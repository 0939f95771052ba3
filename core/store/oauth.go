package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// OAuthRepo holds the state of the OAuth authorization server and of the
// signing-key rings: keys, authorization codes, refresh-token families,
// consents, clients, password hashes, revoked token ids. The records are
// owned by their packages (core/auth/keys, core/auth/oauth) as opaque
// bytes; this repository gives each a namespace ("kind"), optional sealing
// with the Box, optional expiry (Badger TTL), and the atomic operations the
// grants need: take-once for codes and read-modify-write for refresh tokens.
//
// Layout: oauth/<kind>/<id>; the value's first byte says how the rest is
// kept: 'p' plain, 's' sealed with aad "oauth/<kind>/<id>".
type OAuthRepo struct{ s *Store }

// OAuth returns the OAuth and signing-key repository.
func (s *Store) OAuth() *OAuthRepo { return &OAuthRepo{s: s} }

const (
	prefixOAuth  = "oauth/"
	oauthPlain   = 'p'
	oauthSealed  = 's'
	maxOAuthKind = 64
)

func oauthKey(kind, id string) []byte { return []byte(prefixOAuth + kind + "/" + id) }

func oauthPrefix(kind string) []byte { return []byte(prefixOAuth + kind + "/") }

// checkOAuthName refuses kinds that could prefix another kind and empty ids.
func checkOAuthName(kind, id string, needID bool) error {
	if kind == "" || len(kind) > maxOAuthKind || strings.ContainsAny(kind, "/\x00") {
		return fmt.Errorf("oauth record kind %q: must be 1-%d characters without '/'", kind, maxOAuthKind)
	}
	if needID && id == "" {
		return fmt.Errorf("oauth record of kind %q: id is empty", kind)
	}
	return nil
}

func (r *OAuthRepo) encode(kind, id string, value []byte, sealed bool) []byte {
	if sealed {
		return append([]byte{oauthSealed}, r.s.box.Seal(value, oauthKey(kind, id))...)
	}
	return append([]byte{oauthPlain}, value...)
}

func (r *OAuthRepo) decode(kind, id string, raw []byte) ([]byte, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("oauth record %s/%s: empty value", kind, id)
	}
	switch raw[0] {
	case oauthPlain:
		return append([]byte(nil), raw[1:]...), nil
	case oauthSealed:
		return r.s.box.Open(raw[1:], oauthKey(kind, id))
	default:
		return nil, fmt.Errorf("oauth record %s/%s: unknown encoding %q", kind, id, raw[0])
	}
}

func entry(key, val []byte, ttl time.Duration) *badger.Entry {
	e := badger.NewEntry(key, val)
	if ttl > 0 {
		e = e.WithTTL(ttl)
	}
	return e
}

// Put stores value under kind/id, replacing any previous value. A ttl > 0
// makes the record expire; sealed encrypts it at rest.
func (r *OAuthRepo) Put(ctx context.Context, kind, id string, value []byte, ttl time.Duration, sealed bool) error {
	if err := checkOAuthName(kind, id, true); err != nil {
		return err
	}
	val := r.encode(kind, id, value, sealed)
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		return txn.SetEntry(entry(oauthKey(kind, id), val, ttl))
	})
	if err != nil {
		return fmt.Errorf("put oauth %s/%s: %w", kind, id, err)
	}
	return nil
}

// Get returns the value of kind/id (opened when sealed), or an error
// wrapping ErrNotFound; an expired record is not found.
func (r *OAuthRepo) Get(ctx context.Context, kind, id string) ([]byte, error) {
	if err := checkOAuthName(kind, id, true); err != nil {
		return nil, err
	}
	var raw []byte
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		var err error
		raw, err = getValue(txn, oauthKey(kind, id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get oauth %s/%s: %w", kind, id, err)
	}
	return r.decode(kind, id, raw)
}

// Take returns the value of kind/id and deletes it in the same
// transaction: of concurrent callers exactly one gets it, the others
// ErrNotFound. Authorization codes are single-use through it.
func (r *OAuthRepo) Take(ctx context.Context, kind, id string) ([]byte, error) {
	if err := checkOAuthName(kind, id, true); err != nil {
		return nil, err
	}
	var raw []byte
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		var err error
		raw, err = getValue(txn, oauthKey(kind, id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return txn.Delete(oauthKey(kind, id))
	})
	if err != nil {
		return nil, fmt.Errorf("take oauth %s/%s: %w", kind, id, err)
	}
	return r.decode(kind, id, raw)
}

// Delete removes kind/id; a missing record is not an error.
func (r *OAuthRepo) Delete(ctx context.Context, kind, id string) error {
	if err := checkOAuthName(kind, id, true); err != nil {
		return err
	}
	err := r.s.update(ctx, func(txn *badger.Txn) error { return txn.Delete(oauthKey(kind, id)) })
	if err != nil {
		return fmt.Errorf("delete oauth %s/%s: %w", kind, id, err)
	}
	return nil
}

// OAuthChange is what an Update function decides for a record.
type OAuthChange struct {
	// Value replaces the record unless Delete is set.
	Value []byte
	// TTL > 0 makes the new value expire.
	TTL time.Duration
	// Sealed encrypts the new value at rest.
	Sealed bool
	// Delete removes the record.
	Delete bool
}

// Update reads kind/id (nil and found false when missing), lets fn decide
// the change and applies it in one transaction. fn may run more than once
// (after a lost write race) and must have no other effect; an error from
// fn aborts the update and is returned wrapped.
func (r *OAuthRepo) Update(ctx context.Context, kind, id string, fn func(old []byte, found bool) (OAuthChange, error)) error {
	if err := checkOAuthName(kind, id, true); err != nil {
		return err
	}
	key := oauthKey(kind, id)
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		raw, err := getValue(txn, key)
		found := err == nil
		if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		var old []byte
		if found {
			if old, err = r.decode(kind, id, raw); err != nil {
				return err
			}
		}
		ch, err := fn(old, found)
		if err != nil {
			return err
		}
		if ch.Delete {
			return txn.Delete(key)
		}
		return txn.SetEntry(entry(key, r.encode(kind, id, ch.Value, ch.Sealed), ch.TTL))
	})
	if err != nil {
		return fmt.Errorf("update oauth %s/%s: %w", kind, id, err)
	}
	return nil
}

// List returns every live record of kind by id (opened when sealed).
func (r *OAuthRepo) List(ctx context.Context, kind string) (map[string][]byte, error) {
	if err := checkOAuthName(kind, "", false); err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	prefix := oauthPrefix(kind)
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64, Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id := string(it.Item().Key()[len(prefix):])
			raw, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			v, err := r.decode(kind, id, raw)
			if err != nil {
				return err
			}
			out[id] = v
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list oauth %s: %w", kind, err)
	}
	return out, nil
}
