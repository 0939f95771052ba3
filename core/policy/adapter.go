package policy

import (
	"context"
	"fmt"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
)

// RuleStore persists the rules of a policy model, each as [ptype, v0, v1…]
// (core/store's PolicyRepo implements it).
type RuleStore interface {
	List(ctx context.Context, model string) ([][]string, error)
	Add(ctx context.Context, model string, rules ...[]string) error
	Remove(ctx context.Context, model string, rules ...[]string) error
	Replace(ctx context.Context, model string, rules [][]string) error
}

// adapter is a Casbin persist.Adapter over a RuleStore. Casbin's adapter
// interface takes no context; writes are admin actions that must complete
// once started, so they run under a background context.
type adapter struct {
	store RuleStore
	model string
}

var _ persist.Adapter = (*adapter)(nil)

func (a *adapter) LoadPolicy(m model.Model) error {
	rules, err := a.store.List(context.Background(), a.model)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := persist.LoadPolicyArray(r, m); err != nil {
			return fmt.Errorf("load rule %q: %w", r, err)
		}
	}
	return nil
}

func (a *adapter) SavePolicy(m model.Model) error {
	var rules [][]string
	for _, sec := range []string{"p", "g"} {
		for ptype, ast := range m[sec] {
			for _, r := range ast.Policy {
				rules = append(rules, append([]string{ptype}, r...))
			}
		}
	}
	return a.store.Replace(context.Background(), a.model, rules)
}

func (a *adapter) AddPolicy(_ string, ptype string, rule []string) error {
	return a.store.Add(context.Background(), a.model, append([]string{ptype}, rule...))
}

func (a *adapter) RemovePolicy(_ string, ptype string, rule []string) error {
	return a.store.Remove(context.Background(), a.model, append([]string{ptype}, rule...))
}

func (a *adapter) RemoveFilteredPolicy(_ string, ptype string, fieldIndex int, fieldValues ...string) error {
	rules, err := a.store.List(context.Background(), a.model)
	if err != nil {
		return err
	}
	var doomed [][]string
	for _, r := range rules {
		if len(r) == 0 || r[0] != ptype {
			continue
		}
		if matchesFilter(r[1:], fieldIndex, fieldValues) {
			doomed = append(doomed, r)
		}
	}
	if len(doomed) == 0 {
		return nil
	}
	return a.store.Remove(context.Background(), a.model, doomed...)
}

// matchesFilter is Casbin's filter rule: every non-empty value must equal
// the rule's field at fieldIndex+i.
func matchesFilter(rule []string, fieldIndex int, values []string) bool {
	for i, v := range values {
		if v == "" {
			continue
		}
		j := fieldIndex + i
		if j >= len(rule) || rule[j] != v {
			return false
		}
	}
	return true
}
