package access

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

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
				_, _ = a.Decide(ap.ID, "ada", true, "admin-api", "")
			}},
		{name: "an admin denies with a note", timeout: time.Minute, wantStatus: ApprovalDenied, wantBy: "ada", wantErr: "denied by ada: not on prod",
			decide: func(a *Approvals, ap *Approval, _ context.CancelFunc) {
				_, _ = a.Decide(ap.ID, "ada", false, "admin-api", "not on prod")
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
			ap := a.Open("ann", "db", "drop", json.RawMessage(`{"t":"x"}`), "hold", false)
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
	ap := a.Open("ann", "db", "drop", nil, "hold", false)
	if _, err := a.Decide(ap.ID, "ada", true, "admin-api", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Decide(ap.ID, "bob", false, "admin-api", ""); !errors.Is(err, ErrApprovalNotPending) || !strings.Contains(err.Error(), "approved by ada") {
		t.Errorf("a second decision: %v", err)
	}
	if _, err := a.Decide("apr_nope", "ada", true, "admin-api", ""); !errors.Is(err, ErrApprovalNotFound) {
		t.Errorf("an unknown approval: %v", err)
	}
	// Racing deciders: exactly one wins.
	ap2 := a.Open("ann", "db", "drop", nil, "hold", false)
	var wins int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Decide(ap2.ID, "admin", i%2 == 0, "admin-api", ""); err == nil {
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
