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
// human decides: the calling user through an elicitation request, or an
// admin through the admin API. Undecided, it expires to a denial. The
// fields naming the call never change; the decision's fields are written
// under the registry's lock, so read them through Approvals (Get, Final,
// Wait), not through a shared *Approval.
type Approval struct {
	ID        string          `json:"id"`
	User      string          `json:"user"`
	Connector string          `json:"connector"`
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	// Rule is the require-approval rule that held the call.
	Rule      string     `json:"rule"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	DecidedBy string     `json:"decided_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	// Via is how it was decided: "admin-api", "elicitation", "timeout" or
	// "client" (the caller went away).
	Via  string `json:"via,omitempty"`
	Note string `json:"note,omitempty"`
	// Sensitive marks an approval of a sensitive connector (its tool and
	// arguments are shown only to the roles allowed to see them).
	Sensitive bool `json:"sensitive,omitempty"`

	done chan struct{} // closed once decided
}

// Errors of Decide.
var (
	ErrApprovalNotFound   = errors.New("no such approval")
	ErrApprovalNotPending = errors.New("approval is no longer pending")
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

// Open registers a pending approval for a held call.
func (a *Approvals) Open(user, connectorSlug, tool string, args json.RawMessage, rule string, sensitive bool) *Approval {
	var b [12]byte
	_, _ = rand.Read(b[:])
	now := a.now()
	ap := &Approval{ID: "apr_" + hex.EncodeToString(b[:]), User: user, Connector: connectorSlug, Tool: tool,
		Arguments: json.RawMessage(append([]byte(nil), args...)), Rule: rule, Status: ApprovalPending,
		CreatedAt: now, ExpiresAt: now.Add(a.timeout), Sensitive: sensitive, done: make(chan struct{})}
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
// admin API or an elicitation answer.
func (a *Approvals) Decide(id, by string, approve bool, via, note string) (Approval, error) {
	status := ApprovalDenied
	if approve {
		status = ApprovalApproved
	}
	return a.finish(id, status, by, via, note)
}

// Abandon ends a pending approval whose caller went away (a no-op for a
// decided one).
func (a *Approvals) Abandon(id, by string) {
	_, _ = a.finish(id, ApprovalAbandoned, by, "client", "the caller went away before a decision")
}

func (a *Approvals) finish(id, status, by, via, note string) (Approval, error) {
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
