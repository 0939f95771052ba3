package redirect

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

// The two lists.
const (
	ListAllowed = "allowed"
	ListBlocked = "blocked"
)

// BlockedMessage is what a user whose redirect URI is blocked is shown.
const BlockedMessage = "This redirect URI is blocked for your organization"

// Bounds: an attacker who can start flows or register clients can make
// pending approvals, so they are capped; past the cap a new URI is
// Blocked (nothing is stored) until an admin clears some.
const (
	MaxRules   = 10000
	MaxPending = 1000
	// MaxAskers is how many distinct requesters a pending approval names.
	MaxAskers = 10
	maxNote   = 1000
)

// Audit actions of decisions (admin actions on rules and approvals are
// audited by the admin API).
const (
	ActionAllow = "redirect.allow"
	ActionBlock = "redirect.block"
	ActionPause = "redirect.pause"
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict: the URI is already on a list.
	ErrConflict = errors.New("conflict")
	// ErrFull: MaxRules reached.
	ErrFull = errors.New("too many redirect rules")
	// ErrAudit: a decision's audit entry could not be written; the
	// decision must not be acted on.
	ErrAudit = errors.New("audit the redirect decision")
)

// Rule is one entry of the allowed or blocked list.
type Rule struct {
	ID string `json:"id"`
	// List is ListAllowed or ListBlocked.
	List string `json:"list"`
	// URI is the pattern in normal form (ParsePattern).
	URI       string    `json:"uri"`
	Note      string    `json:"note,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// Approval is the pending approval the rule came from, if one.
	Approval string `json:"approval,omitempty"`
}

// Asker is one requester of a pending URI.
type Asker struct {
	ClientID   string    `json:"client_id,omitempty"`
	ClientName string    `json:"client_name,omitempty"`
	User       string    `json:"user,omitempty"`
	Source     string    `json:"source,omitempty"`
	At         time.Time `json:"at"`
}

// PendingURI is a URI on neither list waiting for an admin: one per
// normal form, however many flows asked for it.
type PendingURI struct {
	ID string `json:"id"`
	// URI is the normal form; Raw the first spelling asked for.
	URI string `json:"uri"`
	Raw string `json:"raw"`
	// Askers are the first MaxAskers distinct requesters; Count every
	// request.
	Askers  []Asker   `json:"askers"`
	Count   int       `json:"count"`
	FirstAt time.Time `json:"first_at"`
	LastAt  time.Time `json:"last_at"`
}

// Store keeps the two documents (core/store.MetaRepo implements it).
type Store interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, value []byte) error
}

// AuditLog receives every decision (core/audit.Log implements it).
type AuditLog interface {
	Append(ctx context.Context, e *audit.Entry) error
}

// Store keys.
const (
	rulesKey   = "redirect/rules"
	pendingKey = "redirect/pending"
)

// Rules decides redirect URIs against the organisation's lists and keeps
// the lists and the pending approvals. Decisions read a compiled matcher
// without locking; changes are serialised and durable before they take
// effect. It is safe for concurrent use.
type Rules struct {
	store Store
	log   AuditLog
	now   func() time.Time

	mu      sync.Mutex // serialises changes to rules and pending
	rules   []Rule
	pending []PendingURI
	m       atomic.Pointer[matcher]
}

// New loads the lists and pending approvals from st (none stored: empty
// lists); notFound is the error st wraps for a missing key.
func New(ctx context.Context, st Store, notFound error, log AuditLog) (*Rules, error) {
	r := &Rules{store: st, log: log, now: func() time.Time { return time.Now().UTC() }}
	if err := load(ctx, st, notFound, rulesKey, &r.rules); err != nil {
		return nil, err
	}
	if err := load(ctx, st, notFound, pendingKey, &r.pending); err != nil {
		return nil, err
	}
	m, err := compile(r.rules)
	if err != nil {
		return nil, fmt.Errorf("load redirect rules: %w", err)
	}
	r.m.Store(m)
	return r, nil
}

func load(ctx context.Context, st Store, notFound error, key string, v any) error {
	raw, err := st.Get(ctx, key)
	switch {
	case errors.Is(err, notFound):
		return nil
	case err != nil:
		return fmt.Errorf("load %s: %w", key, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("load %s: %w", key, err)
	}
	return nil
}

func save(ctx context.Context, st Store, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := st.Put(ctx, key, raw); err != nil {
		return fmt.Errorf("save %s: %w", key, err)
	}
	return nil
}

// Check says what Decide would, without creating a pending approval or
// auditing: for admins asking "would this pass?".
func (r *Rules) Check(uri string) Decision {
	u, err := Normalize(uri)
	if err != nil {
		return refusedDecision(err)
	}
	out, rule := r.m.Load().verdict(u)
	d := Decision{Outcome: out, URI: u.String()}
	switch out {
	case Blocked:
		d.Rule, d.Reason = rule.URI, BlockedMessage+" (it is on the blocked list)."
	case Allowed:
		d.Rule, d.Reason = rule.URI, "allowed by "+rule.URI
	default:
		d.Reason = "on neither list: an admin must approve it first"
	}
	return d
}

func refusedDecision(err error) Decision {
	return Decision{Outcome: Blocked, Class: ClassOf(err), Reason: BlockedMessage + ": " + err.Error() + "."}
}

// Decide decides a redirect URI: refused outright when unsafe by
// construction, then the blocked list (which always wins), then the
// allowed list; on neither, the flow pauses on a pending approval (one
// per normal form; Blocked when MaxPending are waiting). Every decision is
// audited before it is returned; when it cannot be, the error wraps
// ErrAudit and the caller must stop the flow.
func (r *Rules) Decide(ctx context.Context, req Request) (Decision, error) {
	d := r.Check(req.URI)
	if d.Outcome == Pending {
		id, err := r.addPending(ctx, d.URI, req)
		switch {
		case errors.Is(err, errPendingFull):
			d = Decision{Outcome: Blocked, URI: d.URI, Reason: fmt.Sprintf("%s: %d redirect URIs already wait for an admin; ask one to review them.", BlockedMessage, MaxPending)}
		case err != nil:
			return Decision{}, fmt.Errorf("record pending redirect URI: %w", err)
		default:
			d.PendingID = id
			d.Reason = fmt.Sprintf("This redirect URI waits for an admin's approval (pending approval %s).", id)
		}
	}
	if err := r.audit(ctx, req, d); err != nil {
		return d, fmt.Errorf("%w: %w", ErrAudit, err)
	}
	return d, nil
}

func (r *Rules) audit(ctx context.Context, req Request, d Decision) error {
	action, outcome := ActionBlock, audit.OutcomeDenied
	switch d.Outcome {
	case Allowed:
		action, outcome = ActionAllow, audit.OutcomeSuccess
	case Pending:
		action = ActionPause
	}
	actor := req.User
	if actor == "" {
		actor = "client:" + truncate(req.ClientID, 256)
	}
	target := d.URI
	if target == "" {
		target = truncate(req.URI, 512)
	}
	details := map[string]any{"uri": truncate(req.URI, 512), "reason": d.Reason}
	for k, v := range map[string]string{"client_id": truncate(req.ClientID, 256), "client_name": truncate(req.ClientName, 256),
		"source": req.Source, "rule": d.Rule, "pending_id": d.PendingID, "class": string(d.Class)} {
		if v != "" {
			details[k] = v
		}
	}
	return r.log.Append(ctx, &audit.Entry{Actor: actor, Action: action, Target: target,
		Decision: string(d.Outcome), Outcome: outcome, Details: details})
}

var errPendingFull = errors.New("pending approvals full")

// addPending records a request for a URI on neither list and returns its
// pending approval's id.
func (r *Rules) addPending(ctx context.Context, uri string, req Request) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	asker := Asker{ClientID: truncate(req.ClientID, 256), ClientName: truncate(req.ClientName, 256), User: req.User, Source: req.Source, At: now}
	next := slices.Clone(r.pending)
	i := slices.IndexFunc(next, func(p PendingURI) bool { return p.URI == uri })
	if i < 0 {
		if len(next) >= MaxPending {
			return "", errPendingFull
		}
		next = append(next, PendingURI{ID: newID(), URI: uri, Raw: truncate(req.URI, 512), FirstAt: now})
		i = len(next) - 1
	}
	p := &next[i]
	p.Askers = slices.Clone(p.Askers)
	p.Count++
	p.LastAt = now
	same := func(a Asker) bool {
		return a.ClientID == asker.ClientID && a.User == asker.User && a.Source == asker.Source
	}
	if len(p.Askers) < MaxAskers && !slices.ContainsFunc(p.Askers, same) {
		p.Askers = append(p.Askers, asker)
	}
	if err := save(ctx, r.store, pendingKey, next); err != nil {
		return "", err
	}
	r.pending = next
	return p.ID, nil
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// List returns the rules of list ("" for both), in the order added.
func (r *Rules) List(list string) []Rule {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []Rule{}
	for _, x := range r.rules {
		if list == "" || x.List == list {
			out = append(out, x)
		}
	}
	return out
}

// Pending returns the pending approvals, oldest first.
func (r *Rules) Pending() []PendingURI {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.pending)
}

// PendingByID returns one pending approval.
func (r *Rules) PendingByID(id string) (PendingURI, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.IndexFunc(r.pending, func(p PendingURI) bool { return p.ID == id })
	if i < 0 {
		return PendingURI{}, false
	}
	return r.pending[i], true
}

// Add puts a pattern on list: an exact URI or a wildcard host pattern
// (ParsePattern). The same pattern on either list is ErrConflict. Pending
// approvals the lists now decide are resolved; their ids are returned.
func (r *Rules) Add(ctx context.Context, list, uri, by, note string) (Rule, []string, error) {
	if list != ListAllowed && list != ListBlocked {
		return Rule{}, nil, fmt.Errorf("%w: the list must be %q or %q", ErrInvalidRule, ListAllowed, ListBlocked)
	}
	if len(note) > maxNote {
		return Rule{}, nil, fmt.Errorf("%w: the note is longer than %d bytes", ErrInvalidRule, maxNote)
	}
	p, err := ParsePattern(uri)
	if err != nil {
		return Rule{}, nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addLocked(ctx, Rule{ID: newID(), List: list, URI: p.Text, Note: note, CreatedBy: by, CreatedAt: r.now()})
}

func (r *Rules) addLocked(ctx context.Context, rule Rule) (Rule, []string, error) {
	if i := slices.IndexFunc(r.rules, func(x Rule) bool { return x.URI == rule.URI }); i >= 0 {
		return Rule{}, nil, fmt.Errorf("%w: %s is already on the %s list (rule %s)", ErrConflict, rule.URI, r.rules[i].List, r.rules[i].ID)
	}
	if len(r.rules) >= MaxRules {
		return Rule{}, nil, fmt.Errorf("%w: at most %d", ErrFull, MaxRules)
	}
	rules := append(slices.Clone(r.rules), rule)
	m, err := compile(rules)
	if err != nil {
		return Rule{}, nil, err
	}
	// Pending approvals the new rule decides go: the next flow that names
	// them gets the lists' answer.
	var resolved []string
	pending := make([]PendingURI, 0, len(r.pending))
	for _, p := range r.pending {
		u, err := Normalize(p.URI)
		if out, _ := m.verdict(u); err == nil && out == Pending {
			pending = append(pending, p)
		} else {
			resolved = append(resolved, p.ID)
		}
	}
	if err := save(ctx, r.store, rulesKey, rules); err != nil {
		return Rule{}, nil, err
	}
	r.rules = rules
	r.m.Store(m)
	if len(resolved) > 0 {
		if err := save(ctx, r.store, pendingKey, pending); err != nil {
			return rule, nil, err
		}
		r.pending = pending
	}
	return rule, resolved, nil
}

// Remove takes a rule off its list.
func (r *Rules) Remove(ctx context.Context, id string) (Rule, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.IndexFunc(r.rules, func(x Rule) bool { return x.ID == id })
	if i < 0 {
		return Rule{}, fmt.Errorf("%w: no redirect rule %q", ErrNotFound, id)
	}
	removed := r.rules[i]
	rules := slices.Delete(slices.Clone(r.rules), i, i+1)
	m, err := compile(rules)
	if err != nil {
		return Rule{}, err
	}
	if err := save(ctx, r.store, rulesKey, rules); err != nil {
		return Rule{}, err
	}
	r.rules = rules
	r.m.Store(m)
	return removed, nil
}

// Approve puts a pending URI on the allowed list; Deny on the blocked
// list. Either way the pending approval goes.
func (r *Rules) Approve(ctx context.Context, id, by, note string) (Rule, error) {
	return r.resolve(ctx, id, ListAllowed, by, note)
}

// Deny puts a pending URI on the blocked list.
func (r *Rules) Deny(ctx context.Context, id, by, note string) (Rule, error) {
	return r.resolve(ctx, id, ListBlocked, by, note)
}

func (r *Rules) resolve(ctx context.Context, id, list, by, note string) (Rule, error) {
	if len(note) > maxNote {
		return Rule{}, fmt.Errorf("%w: the note is longer than %d bytes", ErrInvalidRule, maxNote)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.IndexFunc(r.pending, func(p PendingURI) bool { return p.ID == id })
	if i < 0 {
		return Rule{}, fmt.Errorf("%w: no pending redirect URI %q", ErrNotFound, id)
	}
	rule, _, err := r.addLocked(ctx, Rule{ID: newID(), List: list, URI: r.pending[i].URI, Note: note, CreatedBy: by, CreatedAt: r.now(), Approval: id})
	if err != nil {
		return Rule{}, err
	}
	// addLocked resolved it (the new rule decides its URI).
	if slices.ContainsFunc(r.pending, func(p PendingURI) bool { return p.ID == id }) {
		return rule, fmt.Errorf("pending %s still open after its rule was added", id)
	}
	return rule, nil
}
