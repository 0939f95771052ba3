package oauth

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Sign-in failure limits: after too many wrong passwords for one user
// name, or from one client address, within a window, the password form
// refuses further tries until the window has passed — before bcrypt
// runs, so guessing costs the gateway no CPU either. A success clears the
// user's count. The counts live in memory (a restart forgets them; the
// window is short).
const (
	DefaultSignInFailuresPerUser = 10
	DefaultSignInFailuresPerIP   = 50
	DefaultSignInWindow          = 15 * time.Minute
	// DefaultRegistrationsPerIPPerHour bounds dynamic registrations from
	// one client address (beside the global per-minute bucket).
	DefaultRegistrationsPerIPPerHour = 30
	// maxAttemptKeys bounds the table; the oldest windows go first.
	maxAttemptKeys = 10000
)

// attempts counts failures per key within a fixed window.
type attempts struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	seen map[string]*attemptWindow
}

type attemptWindow struct {
	failures int
	since    time.Time
}

func newAttempts(max int, window time.Duration, now func() time.Time) *attempts {
	return &attempts{max: max, window: window, now: now, seen: map[string]*attemptWindow{}}
}

// blocked reports whether key has used up its failures, and until when.
func (a *attempts) blocked(key string) (bool, time.Time) {
	if a.max <= 0 {
		return false, time.Time{}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.seen[key]
	if w == nil {
		return false, time.Time{}
	}
	until := w.since.Add(a.window)
	if !a.now().Before(until) {
		delete(a.seen, key)
		return false, time.Time{}
	}
	return w.failures >= a.max, until
}

// add counts one event (a failure, a registration) of key.
func (a *attempts) add(key string) {
	if a.max <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	w := a.seen[key]
	if w == nil || !now.Before(w.since.Add(a.window)) {
		if len(a.seen) >= maxAttemptKeys {
			a.evict(now)
		}
		w = &attemptWindow{since: now}
		a.seen[key] = w
	}
	w.failures++
}

// clear forgets key's failures (a successful sign-in).
func (a *attempts) clear(key string) {
	a.mu.Lock()
	delete(a.seen, key)
	a.mu.Unlock()
}

// evict drops the expired windows, or the oldest one when none expired.
func (a *attempts) evict(now time.Time) {
	var oldest string
	var at time.Time
	for k, w := range a.seen {
		if !now.Before(w.since.Add(a.window)) {
			delete(a.seen, k)
			continue
		}
		if oldest == "" || w.since.Before(at) {
			oldest, at = k, w.since
		}
	}
	if len(a.seen) >= maxAttemptKeys && oldest != "" {
		delete(a.seen, oldest)
	}
}

// later is the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// clientIP is the address a request came from (the connection's; the
// gateway does not trust forwarding headers for this).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
