package proxy

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/upstreamtest"
)

// callPaths are the ways a client's tools/call reaches a connector: each
// returns the stream of the answer relayed to the client.
var callPaths = []struct {
	name string
	call func(t *testing.T, p *Proxy) (upstream.Stream, error)
}{
	{"a per-connector session", func(t *testing.T, p *Proxy) (upstream.Stream, error) {
		return mustInit(t, p, ada, "api").Call(upstreamtest.Guard(t), upstreamtest.ToolCall(t, 2, "echo", `{}`))
	}},
	{"the aggregate", func(t *testing.T, p *Proxy) (upstream.Stream, error) {
		agg, _, err := p.InitializeAggregate(upstreamtest.Guard(t), ada, initMsg)
		if err != nil {
			return nil, err
		}
		if _, err := lastStream(agg.Call(upstreamtest.Guard(t), upstreamtest.Request(t, 2, mcp.MethodToolsList, `{}`))); err != nil {
			return nil, err
		}
		return agg.Call(upstreamtest.Guard(t), upstreamtest.ToolCall(t, 3, "api__echo", `{}`))
	}},
	{"a sessionless request translated for a legacy upstream", func(t *testing.T, p *Proxy) (upstream.Stream, error) {
		req := upstreamtest.Request(t, 2, mcp.MethodToolsCall, `{"name":"echo","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}`)
		return p.Modern(upstreamtest.Guard(t), ada, "api", req, nil)
	}},
}

func lastStream(st upstream.Stream, err error) (*mcp.Message, error) {
	if err != nil {
		return nil, err
	}
	return lastMessage(context.Background(), st)
}

// TestAnAnswerWhoseAuditEntryIsNotDurableIsWithheld checks every call
// path fails closed: when the call observer (the audit log's commit)
// fails, the client gets -31060 instead of the upstream's answer.
func TestAnAnswerWhoseAuditEntryIsNotDurableIsWithheld(t *testing.T) {
	for _, path := range callPaths {
		t.Run(path.name, func(t *testing.T) {
			var observed atomic.Int64
			p := newLimitedProxy(t, Options{ObserveCall: func(context.Context, CallRecord) error {
				observed.Add(1)
				return errors.New("disk full")
			}}, httpConnector("api", newRecordingUpstream(t).URL))
			m, err := lastStream(path.call(t, p))
			if err != nil {
				t.Fatal(err)
			}
			if m.Error == nil || m.Error.Code != mcp.CodeAuditUnavailable {
				t.Fatalf("answer %s, want the audit failure -31060", m.Bytes())
			}
			if observed.Load() != 1 {
				t.Errorf("observed %d times", observed.Load())
			}
		})
	}
}

// TestAnAnswerWaitsForItsAuditEntry checks the answer is handed on only
// once the call observer returned: while it waits (a sync in flight), the
// client has nothing.
func TestAnAnswerWaitsForItsAuditEntry(t *testing.T) {
	for _, path := range callPaths {
		t.Run(path.name, func(t *testing.T) {
			entered, release := make(chan struct{}), make(chan struct{})
			p := newLimitedProxy(t, Options{ObserveCall: func(context.Context, CallRecord) error {
				close(entered)
				<-release
				return nil
			}}, httpConnector("api", newRecordingUpstream(t).URL))
			answered := make(chan *mcp.Message, 1)
			errs := make(chan error, 1)
			go func() {
				m, err := lastStream(path.call(t, p))
				if err != nil {
					errs <- err
					return
				}
				answered <- m
			}()
			select {
			case <-entered:
			case err := <-errs:
				t.Fatal(err)
			}
			select {
			case m := <-answered:
				t.Fatalf("answered %s before the audit entry was durable", m.Bytes())
			default:
			}
			close(release)
			select {
			case m := <-answered:
				if m.Error != nil {
					t.Fatalf("answer %s", m.Bytes())
				}
			case err := <-errs:
				t.Fatal(err)
			}
		})
	}
}
