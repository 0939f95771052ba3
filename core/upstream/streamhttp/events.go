package streamhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/sse"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// maxResumes bounds how often one stream is resumed with Last-Event-ID.
const maxResumes = 16

// eventStream reads JSON-RPC messages from an SSE response. When the
// upstream closes the stream before the awaited response (allowed since
// 2025-11-25), it resumes with a GET carrying Last-Event-ID after the
// server's retry hint.
type eventStream struct {
	conn   *Conn
	ctx    context.Context
	waitID string // the request id whose response ends the stream; "" for GET

	mu      sync.Mutex // serialises Next
	reader  *sse.Reader
	lastID  string
	retry   time.Duration
	resumes int
	done    bool

	bodyMu       sync.Mutex // guards body, closed and cancelResume; Close may run during Next
	body         io.ReadCloser
	closed       bool
	cancelResume context.CancelFunc
}

func (c *Conn) newEventStream(ctx context.Context, resp *http.Response, waitID string) *eventStream {
	return c.eventStreamFrom(ctx, resp.Body, waitID)
}

func (c *Conn) eventStreamFrom(ctx context.Context, body io.ReadCloser, waitID string) *eventStream {
	return &eventStream{
		conn:   c,
		ctx:    context.WithoutCancel(ctx),
		waitID: waitID,
		body:   body,
		reader: sse.NewReader(body, c.cfg.MaxMessageBytes),
		retry:  time.Second,
	}
}

func (s *eventStream) Next(ctx context.Context) (*mcp.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return nil, io.EOF
	}
	for {
		if s.reader == nil {
			return nil, upstream.ErrClosed
		}
		ev, err := s.readEvent(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if rerr := s.resume(ctx, err); rerr != nil {
				return nil, rerr
			}
			continue
		}
		if ev.HasID {
			s.lastID = ev.ID
		}
		if ev.Retry > 0 {
			s.retry = time.Duration(ev.Retry) * time.Millisecond
		}
		if ev.Type != "message" || len(ev.Data) == 0 {
			continue // priming events and unknown types
		}
		m, perr := mcp.Parse(ev.Data)
		if perr != nil {
			s.conn.cfg.Log.Warn().Str("error", perr.Message).Msg("upstream sent an SSE event that is not a JSON-RPC message; dropped")
			continue
		}
		if s.waitID != "" && m.Kind() == mcp.KindResponse && m.IDKey() == s.waitID {
			s.done = true
			s.closeBody()
		}
		return m, nil
	}
}

// readEvent reads one event, closing the body when ctx ends so that a
// blocked read returns.
func (s *eventStream) readEvent(ctx context.Context) (*sse.Event, error) {
	if ctx.Done() == nil {
		return s.reader.Next()
	}
	stop := context.AfterFunc(ctx, s.closeBody)
	ev, err := s.reader.Next()
	if !stop() && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return ev, err
}

// resume reconnects after the stream broke with cause.
func (s *eventStream) resume(ctx context.Context, cause error) error {
	s.closeBody()
	if s.lastID == "" || s.resumes >= maxResumes {
		if s.waitID == "" && errors.Is(cause, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("%w: %w (%v)", upstream.ErrUnavailable, errStreamEnded, cause)
	}
	s.resumes++
	select {
	case <-time.After(s.retry):
	case <-ctx.Done():
		return ctx.Err()
	}
	// The reconnect has its own context, cancelled by Close or by ctx, so
	// an upstream that never answers it cannot hold Next forever.
	rctx, rcancel := context.WithCancel(s.ctx)
	s.bodyMu.Lock()
	if s.closed {
		s.bodyMu.Unlock()
		rcancel()
		return upstream.ErrClosed
	}
	s.cancelResume = rcancel
	s.bodyMu.Unlock()
	stop := context.AfterFunc(ctx, rcancel)
	defer stop()
	req, err := s.conn.newRequest(rctx, http.MethodGet, nil)
	if err != nil {
		return err
	}
	req.Header.Set(mcp.HeaderLastEventID, s.lastID)
	resp, err := s.conn.do(req)
	if err != nil {
		return err
	}
	if err := s.conn.checkStatus(resp, false); err != nil {
		return err
	}
	s.bodyMu.Lock()
	defer s.bodyMu.Unlock()
	if s.closed {
		resp.Body.Close()
		return upstream.ErrClosed
	}
	s.body = resp.Body
	s.reader = sse.NewReader(resp.Body, s.conn.cfg.MaxMessageBytes)
	return nil
}

func (s *eventStream) closeBody() {
	s.bodyMu.Lock()
	defer s.bodyMu.Unlock()
	s.body.Close()
}

// Close abandons the stream; it may run while Next blocks.
func (s *eventStream) Close() error {
	s.bodyMu.Lock()
	defer s.bodyMu.Unlock()
	s.closed = true
	if s.cancelResume != nil {
		s.cancelResume()
	}
	return s.body.Close()
}
