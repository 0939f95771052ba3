package store

import (
	"context"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// ToolRuleRepo stores tool access rules (core/policy.Rule), one document
// per rule id.
type ToolRuleRepo struct{ s *Store }

// List returns every rule, by id.
func (r *ToolRuleRepo) List(ctx context.Context) ([]policy.Rule, error) {
	var out []policy.Rule
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		return scanDocs(txn, []byte(prefixToolRule), func(rule *policy.Rule) (bool, error) {
			out = append(out, *rule)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list tool rules: %w", err)
	}
	return out, nil
}

// Replace makes rules the whole rule set, atomically: an import either
// lands whole or not at all.
func (r *ToolRuleRepo) Replace(ctx context.Context, rules []policy.Rule) error {
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixToolRule)})
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
		for i := range rules {
			if err := putDoc(txn, toolRuleKey(rules[i].ID), &rules[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replace tool rules: %w", err)
	}
	return nil
}

// Put stores one rule (creating or replacing by id).
func (r *ToolRuleRepo) Put(ctx context.Context, rule policy.Rule) error {
	err := r.s.update(ctx, func(txn *badger.Txn) error { return putDoc(txn, toolRuleKey(rule.ID), &rule) })
	if err != nil {
		return fmt.Errorf("store tool rule %q: %w", rule.ID, err)
	}
	return nil
}

// Delete removes one rule; a missing one is ErrNotFound.
func (r *ToolRuleRepo) Delete(ctx context.Context, id string) error {
	err := r.s.update(ctx, func(txn *badger.Txn) error {
		if _, err := txn.Get(toolRuleKey(id)); err != nil {
			if err == badger.ErrKeyNotFound {
				return ErrNotFound
			}
			return err
		}
		return txn.Delete(toolRuleKey(id))
	})
	if err != nil {
		return fmt.Errorf("delete tool rule %q: %w", id, err)
	}
	return nil
}
