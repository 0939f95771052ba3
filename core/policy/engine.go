package policy

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// RuleStoreTools persists tool rules (core/store.ToolRuleRepo implements it).
type RuleStoreTools interface {
	List(ctx context.Context) ([]Rule, error)
	Put(ctx context.Context, r Rule) error
	Delete(ctx context.Context, id string) error
	Replace(ctx context.Context, rules []Rule) error
}

// SubjectSource resolves a user's subjects (Admin.Subjects).
type SubjectSource interface {
	Subjects(user string) []string
}

// Engine decides tool access from the stored rules. Decisions read an
// immutable index swapped atomically on every change, so a change applies
// to the next request, on sessions already open too, without locks on
// the request path.
type Engine struct {
	cs       *Conditions
	store    RuleStoreTools
	subjects SubjectSource

	mu      sync.Mutex // serializes writers
	rules   map[string]*Rule
	version uint64 // of the rule set, one more on every change
	idx     atomic.Pointer[Index]
}

var ruleIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// NewEngine loads and indexes the stored rules; a stored rule that no
// longer validates is an error naming it.
func NewEngine(ctx context.Context, cs *Conditions, store RuleStoreTools, subjects SubjectSource) (*Engine, error) {
	e := &Engine{cs: cs, store: store, subjects: subjects, rules: map[string]*Rule{}}
	stored, err := store.List(ctx)
	if err != nil {
		return nil, err
	}
	for i := range stored {
		r := stored[i]
		if err := r.Validate(cs); err != nil {
			return nil, fmt.Errorf("stored tool rule %q: %w", r.ID, err)
		}
		e.rules[r.ID] = &r
	}
	e.reindex()
	return e, nil
}

// reindex rebuilds the index from the validated rules (callers hold mu,
// or run before the engine is shared).
func (e *Engine) reindex() {
	e.version++
	idx := &Index{byConn: map[string]map[string][]*Rule{}, version: e.version}
	ids := make([]string, 0, len(e.rules))
	for id := range e.rules {
		ids = append(ids, id)
	}
	sort.Strings(ids) // deterministic: the first matching rule by id decides among equals
	for _, id := range ids {
		r := e.rules[id]
		bySubj := idx.byConn[r.Connector]
		if bySubj == nil {
			bySubj = map[string][]*Rule{}
			idx.byConn[r.Connector] = bySubj
		}
		bySubj[r.Subject] = append(bySubj[r.Subject], r)
		idx.n++
	}
	e.idx.Store(idx)
}

// Rules returns every rule, by id.
func (e *Engine) Rules() []Rule {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Rule, 0, len(e.rules))
	for _, r := range e.rules {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Put validates and stores r (creating or replacing by id).
func (e *Engine) Put(ctx context.Context, r Rule) error {
	if !ruleIDPattern.MatchString(r.ID) {
		return &RuleError{Field: "id", Message: fmt.Sprintf("%q must be 1-64 letters, digits, '.', '_' or '-'", r.ID)}
	}
	if err := r.Validate(e.cs); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.store.Put(ctx, r); err != nil {
		return err
	}
	e.rules[r.ID] = &r
	e.reindex()
	return nil
}

// Delete removes a rule.
func (e *Engine) Delete(ctx context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.store.Delete(ctx, id); err != nil {
		return err
	}
	delete(e.rules, id)
	e.reindex()
	return nil
}

// Import replaces every rule with rules, all validated first: an import
// with one bad rule changes nothing and names that rule.
func (e *Engine) Import(ctx context.Context, rules []Rule) error {
	next := make(map[string]*Rule, len(rules))
	for i := range rules {
		r := rules[i]
		if !ruleIDPattern.MatchString(r.ID) {
			return fmt.Errorf("rule %d: %w", i, &RuleError{Field: "id", Message: fmt.Sprintf("%q must be 1-64 letters, digits, '.', '_' or '-'", r.ID)})
		}
		if _, dup := next[r.ID]; dup {
			return fmt.Errorf("rule %d: %w", i, &RuleError{Field: "id", Message: fmt.Sprintf("%q appears twice", r.ID)})
		}
		if err := r.Validate(e.cs); err != nil {
			return fmt.Errorf("rule %d (%s): %w", i, r.ID, err)
		}
		next[r.ID] = &r
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.store.Replace(ctx, rules); err != nil {
		return err
	}
	e.rules = next
	e.reindex()
	return nil
}

// Decide answers req for user, whose subjects the engine resolves.
func (e *Engine) Decide(user string, req Request) Decision {
	return e.DecideAs(user, nil, req)
}

// DecideAs answers req for user holding roles besides those bound to it
// in the store (the roles authentication gave the caller: the bootstrap
// owner's, an anonymous caller's configured roles).
func (e *Engine) DecideAs(user string, roles []string, req Request) Decision {
	req.Subjects = e.subjectsOf(user, roles)
	return e.idx.Load().Decide(req)
}

// Grants reports whether user, holding roles besides its stored ones, is
// granted anything on connector (Index.Grants).
func (e *Engine) Grants(user string, roles []string, connector string) bool {
	return e.idx.Load().Grants(e.subjectsOf(user, roles), connector)
}

func (e *Engine) subjectsOf(user string, roles []string) []string {
	subjects := e.subjects.Subjects(user)
	for _, r := range roles {
		if s := "role:" + r; !slices.Contains(subjects, s) {
			subjects = append(subjects, s)
		}
	}
	return subjects
}

// DefaultRules are the tool rules of a fresh install: owners and admins
// may list, read and call everything; everyone else only what a rule
// grants them.
func DefaultRules() []Rule {
	all := []string{ActList, ActCall, ActRead}
	return []Rule{
		{ID: "default-owner", Subject: "role:owner", Connector: "*", Kind: KindAny, Name: "*", Actions: all, Effect: EffectAllow,
			Description: "owners use every connector (default policy)"},
		{ID: "default-admin", Subject: "role:admin", Connector: "*", Kind: KindAny, Name: "*", Actions: all, Effect: EffectAllow,
			Description: "admins use every connector (default policy)"},
	}
}

// Seed adds each of rules whose id is not taken yet (the defaults of a
// fresh install, rules from the config file); existing rules, including
// ones an admin changed, stay as they are.
func (e *Engine) Seed(ctx context.Context, rules []Rule) (added int, err error) {
	for _, r := range rules {
		e.mu.Lock()
		_, exists := e.rules[r.ID]
		e.mu.Unlock()
		if exists {
			continue
		}
		if err := e.Put(ctx, r); err != nil {
			return added, fmt.Errorf("seed rule %q: %w", r.ID, err)
		}
		added++
	}
	return added, nil
}
