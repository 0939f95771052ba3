package host

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// A guard overloaded on purpose (one instance, sixteen calls at once,
// each taking a quarter of the deadline: four deadlines of queue) never
// fails a call for lack of time under CallWithin, which bounds the guest
// and not the queue; the single deadline of Call, which bounded both,
// timed queued calls out. A hostile looping guard still times out under
// CallWithin.
func TestQueueingIsNotGuestTime(t *testing.T) {
	const calls, spin = 16, "3000000"
	// One call's guest time on this machine, now: the deadline is four
	// times it.
	probe := load(t, newHost(t, true), "slow")
	start := time.Now()
	if _, err := probe.CallWithin(context.Background(), guard.HookToolCall, callInput(spin), time.Minute); err != nil {
		t.Fatal(err)
	}
	budget := 4 * time.Since(start)
	t.Logf("one call %s, deadline %s", budget/4, budget)
	for _, tc := range []struct {
		name      string
		within    bool
		wantTimes bool // some call timed out
	}{
		{"one deadline for queue and guest times queued calls out", false, true},
		{"CallWithin bounds only the guest", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := New(context.Background(), Config{Interruptible: true, MaxInstances: 1, AcquireTimeout: time.Minute, Log: zerolog.Nop()})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(context.Background())
			m := load(t, h, "slow")
			var wg sync.WaitGroup
			errs := make([]error, calls)
			for i := range calls {
				wg.Go(func() {
					var v guard.Verdict
					if tc.within {
						v, errs[i] = m.CallWithin(context.Background(), guard.HookToolCall, callInput(spin), budget)
					} else {
						ctx, cancel := context.WithTimeout(context.Background(), budget)
						v, errs[i] = m.Call(ctx, guard.HookToolCall, callInput(spin))
						cancel()
					}
					if errs[i] == nil && v.Action != guard.ActionAllow {
						t.Errorf("call %d: %s", i, v.Action)
					}
				})
			}
			wg.Wait()
			timedOut := 0
			for _, err := range errs {
				switch {
				case errors.Is(err, ErrTimeout):
					timedOut++
				case err != nil:
					t.Errorf("unexpected error: %v", err)
				}
			}
			if (timedOut > 0) != tc.wantTimes {
				t.Fatalf("%d of %d calls timed out", timedOut, calls)
			}
			if st := m.Stats(); tc.within && (st.Calls != calls || st.AcquireWait <= st.GuestTime/calls) {
				t.Errorf("stats %+v: want %d calls, queueing measured apart from guest time", st, calls)
			}
		})
	}
	t.Run("a looping guard still times out", func(t *testing.T) {
		m := load(t, newHost(t, true), "loop")
		if _, err := m.CallWithin(context.Background(), guard.HookToolCall, callInput("x"), 50*time.Millisecond); !errors.Is(err, ErrTimeout) {
			t.Fatalf("loop guard: %v, want ErrTimeout", err)
		}
	})
}

// A call that finds no free instance within AcquireTimeout is ErrBusy,
// and the guard did not run for it.
func TestAcquireTimeoutIsBusy(t *testing.T) {
	h, err := New(context.Background(), Config{Interruptible: true, MaxInstances: 1, AcquireTimeout: 20 * time.Millisecond, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	m := load(t, h, "loop")
	done := make(chan error, 1)
	go func() {
		// Holds the only instance until its deadline stops it.
		_, err := m.CallWithin(context.Background(), guard.HookToolCall, callInput("x"), 2*time.Second)
		done <- err
	}()
	for len(m.pool) > 0 {
		time.Sleep(time.Millisecond)
	}
	_, err = m.CallWithin(context.Background(), guard.HookToolCall, callInput("x"), time.Minute)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("second call: %v, want ErrBusy", err)
	}
	if err := <-done; !errors.Is(err, ErrTimeout) {
		t.Fatalf("looping call: %v, want ErrTimeout", err)
	}
	if st := m.Stats(); st.Busy != 1 || st.Calls != 1 {
		t.Fatalf("stats %+v: want 1 busy, 1 call", st)
	}
}
