package proxy

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// Limits bound what one user and one connector may hold at once, so that
// no caller can exhaust the gateway's host (issue 9: 60 initializes had
// started 60 STDIO processes). A zero count leaves that bound off; the
// configuration's defaults are not zero (core/config.LimitsConfig).
type Limits struct {
	// SessionsPerUser bounds a user's client sessions: sessions on
	// /mcp/{slug} and /mcp, and the sessions the gateway holds for the
	// user's 2026-07-28 requests to legacy upstreams.
	SessionsPerUser int
	// SessionsPerConnector bounds the upstream sessions open on one
	// connector, those of aggregate sessions included.
	SessionsPerConnector int
	// STDIOPerUser and STDIOPerConnector bound running STDIO processes.
	STDIOPerUser, STDIOPerConnector int
	// InflightPerUser and InflightPerConnector bound requests waiting for
	// their answer, calls held for an approval or parked for the client's
	// input included.
	InflightPerUser, InflightPerConnector int
	// NameMaxBytes caps the tool and prompt names clients send,
	// URIMaxBytes the resource URIs (zero: no cap).
	NameMaxBytes, URIMaxBytes int
}

// resource is what the limits count.
type resource int

const (
	sessions resource = iota
	processes
	inflight
	numResources
)

// limiter counts what users and connectors hold against the Limits.
type limiter struct {
	limits Limits

	mu     sync.Mutex
	byUser [numResources]map[string]int
	byConn [numResources]map[string]int
}

func newLimiter(l Limits) *limiter {
	lim := &limiter{limits: l}
	for r := range numResources {
		lim.byUser[r], lim.byConn[r] = map[string]int{}, map[string]int{}
	}
	return lim
}

// bounds returns the per-user and per-connector bounds of r.
func (l *limiter) bounds(r resource) (perUser, perConn int) {
	switch r {
	case sessions:
		return l.limits.SessionsPerUser, l.limits.SessionsPerConnector
	case processes:
		return l.limits.STDIOPerUser, l.limits.STDIOPerConnector
	default:
		return l.limits.InflightPerUser, l.limits.InflightPerConnector
	}
}

// take counts one r for user and for connector slug ("" for either: not
// counted there) and returns its release, which may be called more than
// once; or the refusal of the first bound it would pass.
func (l *limiter) take(r resource, user, slug string) (func(), *refusal) {
	perUser, perConn := l.bounds(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	if user != "" && perUser > 0 && l.byUser[r][user] >= perUser {
		return nil, &refusal{res: r, perUser: true, max: perUser}
	}
	if slug != "" && perConn > 0 && l.byConn[r][slug] >= perConn {
		return nil, &refusal{res: r, slug: slug, max: perConn}
	}
	if user != "" {
		l.byUser[r][user]++
	}
	if slug != "" {
		l.byConn[r][slug]++
	}
	var once sync.Once
	return func() { once.Do(func() { l.put(r, user, slug) }) }, nil
}

// held is how many of r all users hold now.
func (l *limiter) held(r resource) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.byUser[r] {
		n += c
	}
	return n
}

func (l *limiter) put(r resource, user, slug string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range []struct {
		m   map[string]int
		key string
	}{{l.byUser[r], user}, {l.byConn[r], slug}} {
		if c.key == "" {
			continue
		}
		if c.m[c.key]--; c.m[c.key] <= 0 {
			delete(c.m, c.key)
		}
	}
}

// refusal says which bound refused: r per user, or r on connector slug.
type refusal struct {
	res     resource
	perUser bool
	slug    string
	max     int
}

// key is the bound's name in the configuration's limits section.
func (r *refusal) key() string {
	scope := "connector"
	if r.perUser {
		scope = "user"
	}
	switch r.res {
	case sessions:
		return "sessions_per_" + scope
	case processes:
		return "stdio_processes_per_" + scope
	default:
		return "inflight_per_" + scope
	}
}

// err is the client's JSON-RPC error: which limit, its value, and what
// to do.
func (r *refusal) err() *mcp.Error {
	holder := "you have"
	if !r.perUser {
		holder = fmt.Sprintf("connector %q has", r.slug)
	}
	var what, hint string
	switch r.res {
	case sessions:
		what, hint = "sessions open", "try again later"
		if r.perUser {
			hint = "close one (HTTP DELETE with its Mcp-Session-Id) or wait until an idle one expires"
		}
	case processes:
		what, hint = "STDIO processes running", "close a session on a STDIO connector, or try again later"
	default:
		what, hint = "requests in flight", "wait for an answer, then send the request again"
	}
	data, _ := json.Marshal(map[string]any{"limit": r.key(), "value": r.max})
	return &mcp.Error{Code: mcp.CodeLimitReached,
		Message: fmt.Sprintf("limit reached: limits.%s is %d, and %s that many %s; %s", r.key(), r.max, holder, what, hint),
		Data:    data}
}
