package access

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// annDrop is ann's call of tool drop on connector db, held by rule hold.
var annDrop = Binding{User: "ann", Connector: "db", Tool: "drop", ArgsHash: "h1", Rule: "hold", PolicyVersion: 7}

// adminAda is an admin other than the caller.
var adminAda = Actor{User: "ada", Roles: []string{"admin"}}

func TestApprovalDecisions(t *testing.T) {
	tests := []struct {
		name       string
		decide     func(a *Approvals, ap *Approval, cancel context.CancelFunc)
		timeout    time.Duration
		wantStatus string
		wantBy     string
		wantErr    string // in Outcome's message; "" when approved
	}{
		{name: "an admin approves", timeout: time.Minute, wantStatus: ApprovalApproved, wantBy: "ada",
			decide: func(a *Approvals, ap *Approval, _ context.CancelFunc) {
				_, _ = a.Decide(ap.ID, adminAda, true, "admin-api", "")
			}},
		{name: "an admin denies with a note", timeout: time.Minute, wantStatus: ApprovalDenied, wantBy: "ada", wantErr: "denied by ada: not on prod",
			decide: func(a *Approvals, ap *Approval, _ context.CancelFunc) {
				_, _ = a.Decide(ap.ID, adminAda, false, "admin-api", "not on prod")
			}},
		{name: "nobody decides: it expires to a denial", timeout: 20 * time.Millisecond, wantStatus: ApprovalExpired, wantBy: "gatehouse", wantErr: "nobody approved it in time",
			decide: func(*Approvals, *Approval, context.CancelFunc) {}},
		{name: "the caller goes away", timeout: time.Minute, wantStatus: ApprovalAbandoned, wantBy: "ann", wantErr: "abandoned",
			decide: func(_ *Approvals, _ *Approval, cancel context.CancelFunc) { cancel() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewApprovals(tt.timeout)
			var mu sync.Mutex
			var seen []string
			a.OnChange = func(ap Approval) { mu.Lock(); seen = append(seen, ap.Status); mu.Unlock() }
			ap := a.Open(annDrop, json.RawMessage(`{"t":"x"}`), policy.ApproverAdmin, false)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan Approval, 1)
			go func() { done <- a.Wait(ctx, ap) }()
			tt.decide(a, ap, cancel)
			final := <-done
			if final.Status != tt.wantStatus || final.DecidedBy != tt.wantBy || final.DecidedAt == nil {
				t.Fatalf("final %+v", final)
			}
			err := Outcome(final)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("outcome %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Message, tt.wantErr) || !strings.Contains(err.Message, "rule hold")):
				t.Errorf("outcome %v, want %q", err, tt.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if strings.Join(seen, ",") != "pending,"+tt.wantStatus {
				t.Errorf("notified %v", seen)
			}
			if len(a.List(ApprovalPending)) != 0 || len(a.List(tt.wantStatus)) != 1 {
				t.Errorf("lists: pending %v, %s %v", a.List(ApprovalPending), tt.wantStatus, a.List(tt.wantStatus))
			}
		})
	}
}

func TestApprovalDecidedOnce(t *testing.T) {
	a := NewApprovals(time.Minute)
	ap := a.Open(annDrop, nil, policy.ApproverAdmin, false)
	if _, err := a.Decide(ap.ID, adminAda, true, "admin-api", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Decide(ap.ID, Actor{User: "bob", Roles: []string{"admin"}}, false, "admin-api", ""); !errors.Is(err, ErrApprovalNotPending) || !strings.Contains(err.Error(), "approved by ada") {
		t.Errorf("a second decision: %v", err)
	}
	if _, err := a.Decide("apr_nope", adminAda, true, "admin-api", ""); !errors.Is(err, ErrApprovalNotFound) {
		t.Errorf("an unknown approval: %v", err)
	}
	// Racing deciders: exactly one wins.
	ap2 := a.Open(annDrop, nil, policy.ApproverAdmin, false)
	var wins int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Decide(ap2.ID, adminAda, i%2 == 0, "admin-api", ""); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d deciders won", wins)
	}
	if got, ok := a.Get(ap2.ID); !ok || got.Status == ApprovalPending {
		t.Errorf("get %+v %v", got, ok)
	}
}

func TestApprovalWhoMayDecide(t *testing.T) {
	ann := Actor{User: "ann", Roles: []string{"member"}}
	annAdmin := Actor{User: "ann", Roles: []string{"admin", "finance"}}
	tests := []struct {
		name     string
		approver string
		by       Actor
		approve  bool
		wantErr  error // nil: the decision stands
	}{
		{"an admin approves for approver admin", policy.ApproverAdmin, adminAda, true, nil},
		{"an owner approves for approver admin", policy.ApproverAdmin, Actor{User: "olga", Roles: []string{"owner"}}, true, nil},
		{"the caller does not approve their own call", policy.ApproverAdmin, ann, true, ErrSelfApproval},
		{"the caller does not approve their own call, holding the role", policy.ApproverAdmin, annAdmin, true, ErrSelfApproval},
		{"the caller does not approve for a role they hold", "role:finance", annAdmin, true, ErrSelfApproval},
		{"the caller may withdraw their own call", policy.ApproverAdmin, ann, false, nil},
		{"a member is no approver for admin", policy.ApproverAdmin, Actor{User: "max", Roles: []string{"member"}}, true, ErrNotApprover},
		{"an auditor is no approver for admin", policy.ApproverAdmin, Actor{User: "aud", Roles: []string{"auditor"}}, true, ErrNotApprover},
		{"a member denies nobody else's call", policy.ApproverAdmin, Actor{User: "max", Roles: []string{"member"}}, false, ErrNotApprover},
		{"a holder of the role approves for role:finance", "role:finance", Actor{User: "fin", Roles: []string{"member", "finance"}}, true, nil},
		{"an admin without the role is the wrong role", "role:finance", adminAda, true, ErrNotApprover},
		{"a member with another role is the wrong role", "role:finance", Actor{User: "max", Roles: []string{"sales"}}, true, ErrNotApprover},
		{"the caller approves for approver caller", policy.ApproverCaller, ann, true, nil},
		{"an admin still decides for approver caller", policy.ApproverCaller, adminAda, true, nil},
		{"another member does not approve for approver caller", policy.ApproverCaller, Actor{User: "max", Roles: []string{"member"}}, true, ErrNotApprover},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewApprovals(time.Minute)
			ap := a.Open(annDrop, nil, tc.approver, false)
			got, err := a.Decide(ap.ID, tc.by, tc.approve, "admin-api", "")
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			cur, _ := a.Get(ap.ID)
			if tc.wantErr != nil {
				if cur.Status != ApprovalPending {
					t.Errorf("a refused decision changed the approval: %+v", cur)
				}
				if !strings.Contains(err.Error(), "hold") {
					t.Errorf("the refusal %q does not name the rule", err)
				}
				return
			}
			if got.DecidedBy != tc.by.User || cur.Status == ApprovalPending {
				t.Errorf("decided %+v", got)
			}
		})
	}
}

func TestApprovalUse(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(a *Approvals, id string) // after an admin approved
		at      func(b Binding) Binding
		wantErr error
	}{
		{"the approved call itself goes on", nil, func(b Binding) Binding { return b }, nil},
		{"another user's call", nil, func(b Binding) Binding { b.User = "eve"; return b }, ErrApprovalMismatch},
		{"another connector", nil, func(b Binding) Binding { b.Connector = "db2"; return b }, ErrApprovalMismatch},
		{"another tool", nil, func(b Binding) Binding { b.Tool = "truncate"; return b }, ErrApprovalMismatch},
		{"other arguments", nil, func(b Binding) Binding { b.ArgsHash = "h2"; return b }, ErrApprovalMismatch},
		{"another rule", nil, func(b Binding) Binding { b.Rule = "hold-2"; return b }, ErrApprovalMismatch},
		{"another policy version", nil, func(b Binding) Binding { b.PolicyVersion++; return b }, ErrApprovalMismatch},
		{"a second use", func(a *Approvals, id string) {
			if _, err := a.Use(id, annDrop); err != nil {
				panic(err)
			}
		}, func(b Binding) Binding { return b }, ErrApprovalUsed},
		{"past its expiry", func(a *Approvals, id string) {
			later := time.Now().Add(2 * time.Minute)
			a.now = func() time.Time { return later }
		}, func(b Binding) Binding { return b }, ErrApprovalExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewApprovals(time.Minute)
			ap := a.Open(annDrop, nil, policy.ApproverAdmin, false)
			if _, err := a.Decide(ap.ID, adminAda, true, "admin-api", ""); err != nil {
				t.Fatal(err)
			}
			if tc.prepare != nil {
				tc.prepare(a, ap.ID)
			}
			got, err := a.Use(ap.ID, tc.at(annDrop))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if err == nil && (got.UsedAt == nil || got.DecidedBy != "ada") {
				t.Errorf("used %+v", got)
			}
		})
	}
	t.Run("approvals not approved are not used", func(t *testing.T) {
		a := NewApprovals(time.Minute)
		pending := a.Open(annDrop, nil, policy.ApproverAdmin, false)
		if _, err := a.Use(pending.ID, annDrop); !errors.Is(err, ErrApprovalNotApproved) {
			t.Errorf("a pending approval: %v", err)
		}
		denied := a.Open(annDrop, nil, policy.ApproverAdmin, false)
		_, _ = a.Decide(denied.ID, adminAda, false, "admin-api", "")
		if _, err := a.Use(denied.ID, annDrop); !errors.Is(err, ErrApprovalNotApproved) {
			t.Errorf("a denied approval: %v", err)
		}
		if _, err := a.Use("apr_nope", annDrop); !errors.Is(err, ErrApprovalNotFound) {
			t.Errorf("an unknown approval: %v", err)
		}
	})
}
