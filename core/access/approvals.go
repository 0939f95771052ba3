package access

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// Approval states.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalDenied   = "denied"
	ApprovalExpired  = "expired"
	// ApprovalAbandoned: the caller went away (cancelled, disconnected)
	// before anyone decided.
	ApprovalAbandoned = "abandoned"
)

// Approval is one tools/call held by a require-approval rule until a
// human decides: the rule's approver (policy.ApproverCaller: the calling
// user through an elicitation request; otherwise an admin or a role's
// holder other than the caller, through the admin API). Undecided, it
// expires to a denial. An approval is given for the exact call its
// Binding names and is used once (Use). The fields naming the call
// never change; the decision's fields are written under the registry's
// lock, so read them through Approvals (Get, Final, Wait), not through a
// shared *Approval.
type Approval struct {
	ID        string          `json:"id"`
	User      string          `json:"user"`
	Connector string          `json:"connector"`
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	// ArgsHash is the SHA-256 of the arguments in canonical JSON.
	ArgsHash string `json:"args_hash"`
	// Rule is the require-approval rule that held the call, as of policy
	// version PolicyVersion.
	Rule          string `json:"rule"`
	PolicyVersion uint64 `json:"policy_version"`
	// Approver is who may approve it (the rule's approver).
	Approver  string     `json:"approver"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	DecidedBy string     `json:"decided_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	// Via is how it was decided: "admin-api", "elicitation", "timeout" or
	// "client" (the caller went away).
	Via  string `json:"via,omitempty"`
	Note string `json:"note,omitempty"`
	// UsedAt is when the approved call went on (an approval is used once).
	UsedAt *time.Time `json:"used_at,omitempty"`
	// Sensitive marks an approval of a sensitive connector (its tool and
	// arguments are shown only to the roles allowed to see them).
	Sensitive bool `json:"sensitive,omitempty"`

	done chan struct{} // closed once decided
}

// CallerDecides reports whether the caller may approve ap themself (the
// rule's approver is caller): only then is the caller asked.
func (ap *Approval) CallerDecides() bool { return ap.Approver == policy.ApproverCaller }

// Binding is the exact call an approval is for: an approval applies only
// to a call whose binding is equal in every field.
type Binding struct {
	User, Connector, Tool string
	// ArgsHash is ArgsHash of the call's arguments.
	ArgsHash string
	// Rule and PolicyVersion are the deciding require-approval rule and
	// the rule set's version (policy.Decision).
	Rule          string
	PolicyVersion uint64
}

// mismatch names the first field in which b differs from ap's binding.
func (b Binding) mismatch(ap *Approval) string {
	switch {
	case b.User != ap.User:
		return "user"
	case b.Connector != ap.Connector:
		return "connector"
	case b.Tool != ap.Tool:
		return "tool"
	case b.ArgsHash != ap.ArgsHash:
		return "arguments"
	case b.Rule != ap.Rule:
		return "rule"
	case b.PolicyVersion != ap.PolicyVersion:
		return "policy version"
	}
	return ""
}

// Actor is who decides an approval: a user and every role they hold,
// inherited ones included (auth.Principal's User and Roles).
type Actor struct {
	User  string
	Roles []string
}

// Errors of Decide and Use.
var (
	ErrApprovalNotFound   = errors.New("no such approval")
	ErrApprovalNotPending = errors.New("approval is no longer pending")
	// ErrSelfApproval: the caller may not approve their own call (the
	// rule's approver is not caller).
	ErrSelfApproval = errors.New("nobody may approve their own call")
	// ErrNotApprover: the decider does not hold the approver's role.
	ErrNotApprover = errors.New("not an approver of this call")
	// ErrApprovalNotApproved: Use of an approval that was not approved.
	ErrApprovalNotApproved = errors.New("approval was not given")
	// ErrApprovalUsed: a second Use.
	ErrApprovalUsed = errors.New("approval was used already")
	// ErrApprovalExpired: Use after the approval's expiry.
	ErrApprovalExpired = errors.New("approval expired")
	// ErrApprovalMismatch: Use for another call than the one approved.
	ErrApprovalMismatch = errors.New("approval was given for another call")
)

// maxDecided is how many decided approvals are kept for the admin API
// (the audit log keeps them all).
const maxDecided = 1000

// Approvals holds pending approvals in memory: a held call lives as long
// as its client's request, so there is nothing to resume after a restart.
// It is safe for concurrent use.
type Approvals struct {
	timeout time.Duration
	now     func() time.Time
	// OnChange is told of every new approval and every decision (the
	// audit log records them). It must not block.
	OnChange func(Approval)

	mu      sync.Mutex
	pending map[string]*Approval
	decided []*Approval // oldest first, at most maxDecided
}

// NewApprovals returns a registry whose approvals expire after timeout.
func NewApprovals(timeout time.Duration) *Approvals {
	return &Approvals{timeout: timeout, now: func() time.Time { return time.Now().UTC() }, pending: map[string]*Approval{}}
}

// Timeout is how long an approval waits for a decision.
func (a *Approvals) Timeout() time.Duration { return a.timeout }

// Open registers a pending approval for the held call b names (args are
// its arguments, shown to deciders), which approver may approve.
func (a *Approvals) Open(b Binding, args json.RawMessage, approver string, sensitive bool) *Approval {
	var id [12]byte
	_, _ = rand.Read(id[:])
	now := a.now()
	ap := &Approval{ID: "apr_" + hex.EncodeToString(id[:]), User: b.User, Connector: b.Connector, Tool: b.Tool,
		Arguments: json.RawMessage(append([]byte(nil), args...)), ArgsHash: b.ArgsHash, Rule: b.Rule, PolicyVersion: b.PolicyVersion,
		Approver: approver, Status: ApprovalPending, CreatedAt: now, ExpiresAt: now.Add(a.timeout), Sensitive: sensitive, done: make(chan struct{})}
	snapshot := *ap // before anyone else can decide it
	a.mu.Lock()
	a.pending[ap.ID] = ap
	a.mu.Unlock()
	a.notify(snapshot)
	// Undecided, it expires even when nobody waits on it (a sessionless
	// call asked back through input_required may never come back).
	time.AfterFunc(a.timeout, func() {
		_, _ = a.finish(ap.ID, ApprovalExpired, "gatehouse", "timeout", fmt.Sprintf("nobody decided within %s", a.timeout))
	})
	return ap
}

// Wait blocks until ap is decided or expires (a denial), or ctx ends (the
// approval is abandoned). It returns the final state.
func (a *Approvals) Wait(ctx context.Context, ap *Approval) Approval {
	select {
	case <-ap.done:
	case <-ctx.Done():
		a.Abandon(ap.ID, ap.User)
	}
	<-ap.done
	a.mu.Lock()
	defer a.mu.Unlock()
	return *ap
}

// Decide approves or denies a pending approval on behalf of by, via the
// admin API or an elicitation answer. Approving takes the approver: the
// caller themself only when the rule's approver is caller, anyone else
// only holding the approver's role (policy.MayApprove). Denying takes an
// approver too, or the caller (withdrawing a call is no escalation).
func (a *Approvals) Decide(id string, by Actor, approve bool, via, note string) (Approval, error) {
	status := ApprovalDenied
	if approve {
		status = ApprovalApproved
	}
	return a.finishIf(id, status, by.User, via, note, func(ap *Approval) error {
		self := by.User == ap.User
		switch {
		case self && (!approve || ap.Approver == policy.ApproverCaller):
			return nil
		case self:
			return fmt.Errorf("%w: %s is the caller, and rule %s takes approver %s", ErrSelfApproval, by.User, ap.Rule, ap.Approver)
		case !policy.MayApprove(ap.Approver, by.Roles):
			return fmt.Errorf("%w: rule %s takes approver %s, which %s is not", ErrNotApprover, ap.Rule, approverName(ap.Approver), by.User)
		}
		return nil
	})
}

// approverName says who an approver is, for errors.
func approverName(approver string) string {
	switch approver {
	case policy.ApproverCaller:
		return "caller (or an admin or owner)"
	case policy.ApproverAdmin:
		return "admin (an admin or owner)"
	}
	return approver
}

// Use takes an approved approval for the call b names, once: it fails for
// an approval not approved, used already, past its expiry, or given for a
// call differing from b in any field.
func (a *Approvals) Use(id string, b Binding) (Approval, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ap *Approval
	for _, d := range a.decided {
		if d.ID == id {
			ap = d
		}
	}
	switch {
	case ap == nil && a.pending[id] != nil:
		return Approval{}, fmt.Errorf("%w: %s is pending", ErrApprovalNotApproved, id)
	case ap == nil:
		return Approval{}, fmt.Errorf("%w: %s", ErrApprovalNotFound, id)
	case ap.Status != ApprovalApproved:
		return *ap, fmt.Errorf("%w: %s is %s", ErrApprovalNotApproved, id, ap.Status)
	case ap.UsedAt != nil:
		return *ap, fmt.Errorf("%w: %s at %s", ErrApprovalUsed, id, ap.UsedAt.Format(time.RFC3339Nano))
	case !a.now().Before(ap.ExpiresAt):
		return *ap, fmt.Errorf("%w: %s at %s", ErrApprovalExpired, id, ap.ExpiresAt.Format(time.RFC3339))
	}
	if field := b.mismatch(ap); field != "" {
		return *ap, fmt.Errorf("%w: %s differs", ErrApprovalMismatch, field)
	}
	now := a.now()
	ap.UsedAt = &now
	return *ap, nil
}

// Abandon ends a pending approval whose caller went away (a no-op for a
// decided one).
func (a *Approvals) Abandon(id, by string) {
	_, _ = a.finish(id, ApprovalAbandoned, by, "client", "the caller went away before a decision")
}

func (a *Approvals) finish(id, status, by, via, note string) (Approval, error) {
	return a.finishIf(id, status, by, via, note, nil)
}

// finishIf decides a pending approval when may (if set) allows it.
func (a *Approvals) finishIf(id, status, by, via, note string, may func(*Approval) error) (Approval, error) {
	a.mu.Lock()
	ap := a.pending[id]
	if ap == nil {
		for _, d := range a.decided {
			if d.ID == id {
				out := *d
				a.mu.Unlock()
				return out, fmt.Errorf("%w: it was %s by %s", ErrApprovalNotPending, out.Status, out.DecidedBy)
			}
		}
		a.mu.Unlock()
		return Approval{}, ErrApprovalNotFound
	}
	if may != nil {
		if err := may(ap); err != nil {
			a.mu.Unlock()
			return Approval{}, err
		}
	}
	delete(a.pending, id)
	now := a.now()
	ap.Status, ap.DecidedBy, ap.DecidedAt, ap.Via, ap.Note = status, by, &now, via, note
	a.decided = append(a.decided, ap)
	if len(a.decided) > maxDecided {
		a.decided = a.decided[len(a.decided)-maxDecided:]
	}
	out := *ap
	close(ap.done)
	a.mu.Unlock()
	a.notify(out)
	return out, nil
}

// Final returns ap's state once decided; false while it is pending.
func (a *Approvals) Final(ap *Approval) (Approval, bool) {
	select {
	case <-ap.done:
	default:
		return Approval{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return *ap, true
}

// Get returns one approval, pending or recently decided.
func (a *Approvals) Get(id string) (Approval, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ap := a.pending[id]; ap != nil {
		return *ap, true
	}
	for _, d := range a.decided {
		if d.ID == id {
			return *d, true
		}
	}
	return Approval{}, false
}

// List returns the approvals with status ("" for all kept), newest first.
func (a *Approvals) List(status string) []Approval {
	a.mu.Lock()
	out := []Approval{}
	if status == "" || status == ApprovalPending {
		for _, ap := range a.pending {
			out = append(out, *ap)
		}
	}
	if status != ApprovalPending {
		for _, d := range a.decided {
			if status == "" || d.Status == status {
				out = append(out, *d)
			}
		}
	}
	a.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (a *Approvals) notify(ap Approval) {
	if a.OnChange != nil {
		a.OnChange(ap)
	}
}
