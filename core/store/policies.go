package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// PolicyRepo stores the rules of policy models (Casbin "p" and "g" lines),
// one key per rule, so adding or removing a rule is one small write. The
// model name keeps models apart ("admin" for the admin API's own rules).
type PolicyRepo struct{ s *Store }

func policyKey(model string, rule []string) ([]byte, error) {
	data, err := json.Marshal(rule)
	if err != nil {
		return nil, err
	}
	return append(policyPrefix(model), data...), nil
}

// List returns every rule of model in key order.
func (r *PolicyRepo) List(ctx context.Context, model string) ([][]string, error) {
	var out [][]string
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		prefix := policyPrefix(model)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var rule []string
			if err := json.Unmarshal(it.Item().Key()[len(prefix):], &rule); err != nil {
				return fmt.Errorf("decode rule %s: %w", it.Item().Key(), err)
			}
			out = append(out, rule)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s rules: %w", model, err)
	}
	return out, nil
}

// Add stores rules (already present ones are kept as they are).
func (r *PolicyRepo) Add(ctx context.Context, model string, rules ...[]string) error {
	return r.write(ctx, model, rules, false)
}

// Remove deletes rules (absent ones are ignored).
func (r *PolicyRepo) Remove(ctx context.Context, model string, rules ...[]string) error {
	return r.write(ctx, model, rules, true)
}

func (r *PolicyRepo) write(ctx context.Context, model string, rules [][]string, remove bool) error {
	keys := make([][]byte, len(rules))
	for i, rule := range rules {
		k, err := policyKey(model, rule)
		if err != nil {
			return err
		}
		keys[i] = k
	}
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		for _, k := range keys {
			var err error
			if remove {
				err = txn.Delete(k)
			} else {
				err = txn.Set(k, nil)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write %s rules: %w", model, err)
	}
	return nil
}

// Replace makes rules the whole rule set of model, atomically.
func (r *PolicyRepo) Replace(ctx context.Context, model string, rules [][]string) error {
	keys := make([][]byte, len(rules))
	for i, rule := range rules {
		k, err := policyKey(model, rule)
		if err != nil {
			return err
		}
		keys[i] = k
	}
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: policyPrefix(model)})
		var old [][]byte
		for it.Rewind(); it.Valid(); it.Next() {
			old = append(old, it.Item().KeyCopy(nil))
		}
		it.Close()
		for _, k := range old {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if err := txn.Set(k, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replace %s rules: %w", model, err)
	}
	return nil
}
