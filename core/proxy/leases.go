package proxy

import (
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// This file holds where the limits are taken and given back: a session
// holds its places until it is closed, a STDIO process until it exits,
// a request until its stream is closed. The gateway's own sessions
// (tool scans) are not counted.

// take counts r for who on connector c (per user too when perUser). When
// a session or process limit refuses, who's least recently used idle
// session (never except) is closed to make room, as often as that frees
// what refused: clients that never end their sessions (many do not send
// DELETE) keep working within the bounds instead of being locked out.
func (p *Proxy) take(r resource, who auth.Principal, perUser bool, c *connector.Connector, except *Session) (func(), error) {
	if who.System {
		return func() {}, nil
	}
	user := ""
	if perUser {
		user = who.User
	}
	for {
		release, refused := p.limits.take(r, user, c.Slug)
		if refused == nil {
			return release, nil
		}
		if r == inflight || !p.evictIdle(who.User, c.Slug, except, refused) {
			return nil, p.refuse(who.User, c.Slug, refused)
		}
	}
}

// evictable is one session evictIdle may close, with the aggregate it
// serves (nil for a session of its own).
type evictable struct {
	s   *Session
	agg *aggregate
}

// evictIdle closes user's least recently used idle session that holds
// what refused: any of their client sessions for sessions_per_user, a
// session on slug for sessions_per_connector, one with a running process
// on slug for the process limits. False when there is none.
func (p *Proxy) evictIdle(user, slug string, except *Session, refused *refusal) bool {
	var candidates []evictable
	var aggregates []*aggregate
	anyConnector := refused.res == sessions && refused.perUser
	p.mu.Lock()
	for _, s := range p.sessions {
		if s.User != user {
			continue
		}
		if s.Slug == slug || anyConnector {
			candidates = append(candidates, evictable{s: s})
		} else if a, ok := s.backend.(*aggregate); ok && s.Slug == "" {
			aggregates = append(aggregates, a)
		}
	}
	p.mu.Unlock()
	// An aggregate's child is no client session of its own.
	if refused.res != sessions || !refused.perUser {
		for _, a := range aggregates {
			if child := a.childOn(slug); child != nil {
				candidates = append(candidates, evictable{s: child, agg: a})
			}
		}
	}
	var victim *evictable
	var oldest time.Time
	for i := range candidates {
		c := &candidates[i]
		if c.s == except {
			continue
		}
		if last, ok := c.s.idle(refused.res == processes); ok && (victim == nil || last.Before(oldest)) {
			victim, oldest = c, last
		}
	}
	if victim == nil {
		return false
	}
	p.log.Info().Str("session", victim.s.ID[:8]).Str("connector", victim.s.Slug).Str("user", user).Str("limit", refused.key()).
		Msg("closing the least recently used idle session to stay within the limit")
	if victim.agg != nil {
		victim.agg.drop(slug, victim.s) // children are candidates on slug only
	} else {
		p.CloseSession(victim.s.ID)
	}
	return true
}

// idle reports whether s has nothing in flight and nothing held for an
// approval (and, when needProcess, a running upstream), and when it was
// last used.
func (s *Session) idle(needProcess bool) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.busy > 0 || len(s.held) > 0 || needProcess && s.conn == nil {
		return time.Time{}, false
	}
	return s.lastUsed, true
}

// lease takes s's places on connector c: a session on c, and one of its
// user's client sessions when client is set (not for an aggregate's
// children).
func (s *Session) lease(c *connector.Connector, client bool) error {
	release, err := s.proxy.take(sessions, s.principal, client, c, nil)
	if err != nil {
		return err
	}
	s.keep(release)
	return nil
}

// keep adds a release to those closeUpstream calls.
func (s *Session) keep(release func()) {
	s.mu.Lock()
	s.leases = append(s.leases, release)
	s.mu.Unlock()
}

// begin counts a request of s in flight (against its user's and its
// connector's limits, on a session bound to a connector) and returns
// what ends it.
func (s *Session) begin() (func(), error) {
	release := func() {}
	if s.Slug != "" {
		r, rpcErr := s.proxy.Begin(s.principal, s.Slug)
		if rpcErr != nil {
			return nil, rpcErr
		}
		release = r
	}
	s.mu.Lock()
	s.busy++
	s.lastUsed = time.Now()
	s.mu.Unlock()
	done := false
	return func() {
		s.mu.Lock()
		if !done {
			done = true
			s.busy--
			s.lastUsed = time.Now()
		}
		s.mu.Unlock()
		release()
	}, nil
}

// Begin counts a sessionless request of principal to connector slug in
// flight, for the requests the server relays itself; end must be called
// once its answer is relayed. A limit that refuses it gives the client's
// error instead.
func (p *Proxy) Begin(principal auth.Principal, slug string) (end func(), rpcErr *mcp.Error) {
	if principal.System {
		return func() {}, nil
	}
	release, refused := p.limits.take(inflight, principal.User, slug)
	if refused != nil {
		return nil, p.refuse(principal.User, slug, refused)
	}
	return release, nil
}

// refuse logs a refusal and returns the client's error.
func (p *Proxy) refuse(user, slug string, r *refusal) *mcp.Error {
	p.log.Warn().Str("user", user).Str("connector", slug).Str("limit", r.key()).Int("value", r.max).Msg("limit reached")
	return r.err()
}

// counted is a request's stream; closing it ends the request's place in
// flight.
type counted struct {
	upstream.Stream
	end func()
}

func (c *counted) Close() error {
	err := c.Stream.Close()
	c.end()
	return err
}

// process is a running STDIO upstream; closing it gives its place under
// the process limits back.
type process struct {
	upstream.Conn
	release func()
}

func (c *process) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
