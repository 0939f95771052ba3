package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

// SchemaRetry is how long the gateway waits before listing a connector's
// tools again to learn a schema it could not learn.
const SchemaRetry = 30 * time.Second

// Schemas is the stage that learns a tool's input schema before its call
// is validated: when the schema is not known yet (after a restart, or a
// client calling without listing first) it lists the connector's tools
// as the gateway, once per connector at a time. Failures (a connector
// needing each user's own credentials) are retried after SchemaRetry;
// meanwhile calls pass unvalidated and the audit record says so.
type Schemas struct {
	knows   func(c *connector.Connector, tool string) bool
	scan    func(ctx context.Context, slug string) error
	timeout time.Duration
	log     zerolog.Logger

	mu       sync.Mutex
	learning map[string]*learning // by connector slug
}

// NewSchemas returns the schema-learning stage: knows says whether a
// tool's schema is known, scan lists a connector's tools (within
// timeout).
func NewSchemas(knows func(*connector.Connector, string) bool, scan func(context.Context, string) error, timeout time.Duration, log zerolog.Logger) *Schemas {
	return &Schemas{knows: knows, scan: scan, timeout: timeout, log: log, learning: map[string]*learning{}}
}

// learning is one listing of a connector's tools for their schemas.
type learning struct {
	at time.Time
	ch chan struct{}
}

func (l *learning) done() bool {
	select {
	case <-l.ch:
		return true
	default:
		return false
	}
}

// Request waits for the tool's schema to be learnt, when it is not known.
func (s *Schemas) Request(ctx context.Context, x *Exchange) Step {
	c := x.Connector
	if c == nil || !x.IsCall() || c.Advanced.SkipInputValidation || x.Principal.System {
		return Continue()
	}
	tool := x.Request.TargetName()
	if s.knows(c, tool) {
		return Continue()
	}
	s.mu.Lock()
	l := s.learning[c.Slug]
	if l == nil || (l.done() && time.Since(l.at) > SchemaRetry) {
		l = &learning{at: time.Now(), ch: make(chan struct{})}
		s.learning[c.Slug] = l
		go func() {
			defer close(l.ch)
			lctx, cancel := context.WithTimeout(context.Background(), s.timeout)
			defer cancel()
			if err := s.scan(lctx, c.Slug); err != nil {
				s.log.Warn().Err(err).Str("connector", c.Slug).Msg("could not list tools to learn their input schemas")
			}
		}()
	}
	s.mu.Unlock()
	select {
	case <-l.ch:
	case <-ctx.Done():
	}
	return Continue()
}

// Answer does nothing.
func (s *Schemas) Answer(context.Context, *Exchange, *Answer) {}

// Forget drops what is known of slug's listing (its definition changed).
func (s *Schemas) Forget(slug string) {
	s.mu.Lock()
	delete(s.learning, slug)
	s.mu.Unlock()
}
