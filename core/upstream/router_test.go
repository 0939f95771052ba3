package upstream_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

func parse(t *testing.T, s string) *mcp.Message {
	t.Helper()
	m, err := mcp.Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%s): %v", s, err)
	}
	return m
}

// request builds a request with a raw id and, when token is not "", a
// raw progress token.
func request(t *testing.T, id, token string) *mcp.Message {
	t.Helper()
	if token == "" {
		return parse(t, `{"jsonrpc":"2.0","id":`+id+`,"method":"tools/call","params":{"name":"x"}}`)
	}
	return parse(t, `{"jsonrpc":"2.0","id":`+id+`,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":`+token+`}}}`)
}

func response(t *testing.T, id string) *mcp.Message {
	return parse(t, `{"jsonrpc":"2.0","id":`+id+`,"result":{}}`)
}

func progress(t *testing.T, token string) *mcp.Message {
	return parse(t, `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":`+token+`,"progress":1}}`)
}

// pending reports what a stream holds right now, up to its end if it ended.
func pending(t *testing.T, s upstream.Stream) (raw []string, err error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // never block: take only what is queued
	for {
		m, err := s.Next(ctx)
		if errors.Is(err, context.Canceled) {
			return raw, nil
		}
		if err != nil {
			return raw, err
		}
		raw = append(raw, string(m.Bytes()))
	}
}

func register(t *testing.T, r *upstream.Router, req *mcp.Message) upstream.Stream {
	t.Helper()
	s, err := r.Register(req)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	return s
}

func TestRouterRoutes(t *testing.T) {
	sampling := `{"jsonrpc":"2.0","id":"s1","method":"sampling/createMessage","params":{}}`
	logging := `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}`
	tests := []struct {
		name string
		// Calls A (id 1, token "a") and B (id 2, token "b", newer) are in
		// flight unless noCalls.
		noCalls  bool
		dispatch string
		wantA    bool
		wantB    bool
		wantEv   bool
		endsA    bool
	}{
		{name: "a response ends the call with its id", dispatch: `{"jsonrpc":"2.0","id":1,"result":{}}`, wantA: true, endsA: true},
		{name: "an error response ends the call with its id", dispatch: `{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"m"}}`, wantA: true, endsA: true},
		{name: "a response with a string id does not match an integer id", dispatch: `{"jsonrpc":"2.0","id":"1","result":{}}`, wantEv: true},
		{name: "a response for no call goes to events", dispatch: `{"jsonrpc":"2.0","id":99,"result":{}}`, wantEv: true},
		{name: "progress goes to the call that sent its token, not the newest", dispatch: `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"a","progress":1}}`, wantA: true},
		{name: "progress for an unknown token goes to the newest call", dispatch: `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"zz","progress":1}}`, wantB: true},
		{name: "other notifications go to the newest call in flight", dispatch: logging, wantB: true},
		{name: "server requests go to the newest call in flight", dispatch: sampling, wantB: true},
		{name: "notifications go to events when no call is in flight", noCalls: true, dispatch: logging, wantEv: true},
		{name: "server requests go to events when no call is in flight", noCalls: true, dispatch: sampling, wantEv: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := upstream.NewRouter()
			var a, b upstream.Stream
			if !tt.noCalls {
				a = register(t, r, request(t, "1", `"a"`))
				b = register(t, r, request(t, "2", `"b"`))
			}
			r.Dispatch(parse(t, tt.dispatch))
			for _, c := range []struct {
				name string
				s    upstream.Stream
				want bool
			}{
				{"call A", a, tt.wantA},
				{"call B", b, tt.wantB},
				{"events", r.Events(), tt.wantEv},
			} {
				if c.s == nil {
					continue
				}
				got, err := pending(t, c.s)
				if (len(got) == 1) != c.want || len(got) > 1 {
					t.Errorf("%s holds %v, want the message: %v", c.name, got, c.want)
				}
				if c.name == "call A" && tt.endsA != errors.Is(err, io.EOF) {
					t.Errorf("call A ended with %v, want ended: %v", err, tt.endsA)
				}
				if c.name != "call A" && err != nil {
					t.Errorf("%s ended with %v", c.name, err)
				}
			}
		})
	}
}

func TestRouterLifecycle(t *testing.T) {
	logging := `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}`
	t.Run("after the newest call ends, messages go to the previous one", func(t *testing.T) {
		r := upstream.NewRouter()
		a := register(t, r, request(t, "1", ""))
		register(t, r, request(t, "2", ""))
		r.Dispatch(response(t, "2"))
		r.Dispatch(parse(t, logging))
		if got, _ := pending(t, a); len(got) != 1 {
			t.Errorf("call A holds %v, want the notification", got)
		}
	})
	t.Run("progress stays with its call after a newer call ends", func(t *testing.T) {
		r := upstream.NewRouter()
		a := register(t, r, request(t, "1", "7"))
		b := register(t, r, request(t, "2", ""))
		r.Dispatch(progress(t, "7"))
		r.Dispatch(progress(t, "7"))
		if got, _ := pending(t, a); len(got) != 2 {
			t.Errorf("call A holds %v, want two progress notifications", got)
		}
		if got, _ := pending(t, b); len(got) != 0 {
			t.Errorf("call B holds %v, want nothing", got)
		}
	})
	t.Run("Fail ends every call in flight and the events stream", func(t *testing.T) {
		r := upstream.NewRouter()
		a := register(t, r, request(t, "1", ""))
		b := register(t, r, request(t, "2", `"b"`))
		r.Dispatch(parse(t, logging)) // queued on B before the failure
		died := errors.New("process died")
		r.Fail(died)
		if got, err := drain(t, b); len(got) != 1 || !errors.Is(err, died) {
			t.Errorf("call B read %v then %v, want the queued message then the failure", got, err)
		}
		if _, err := drain(t, a); !errors.Is(err, died) {
			t.Errorf("call A ended with %v, want the failure", err)
		}
		if _, err := drain(t, r.Events()); !errors.Is(err, died) {
			t.Errorf("events ended with %v, want the failure", err)
		}
	})
	t.Run("Register after Fail returns the failure", func(t *testing.T) {
		r := upstream.NewRouter()
		died := errors.New("process died")
		r.Fail(died)
		r.Fail(errors.New("later"))
		if _, err := r.Register(request(t, "1", "")); !errors.Is(err, died) {
			t.Errorf("Register = %v, want the first failure", err)
		}
	})
	t.Run("Forget ends the call with ErrClosed and unroutes it", func(t *testing.T) {
		r := upstream.NewRouter()
		req := request(t, "1", `"a"`)
		a := register(t, r, req)
		r.Forget(req)
		if _, err := drain(t, a); !errors.Is(err, upstream.ErrClosed) {
			t.Errorf("call ended with %v, want ErrClosed", err)
		}
		r.Dispatch(progress(t, `"a"`))
		r.Dispatch(response(t, "1"))
		if got, _ := pending(t, r.Events()); len(got) != 2 {
			t.Errorf("events hold %v, want the progress and the response", got)
		}
	})
	t.Run("Forget of an unknown request does nothing", func(t *testing.T) {
		r := upstream.NewRouter()
		a := register(t, r, request(t, "1", ""))
		r.Forget(request(t, "2", ""))
		r.Dispatch(response(t, "1"))
		if got, err := drain(t, a); len(got) != 1 || !errors.Is(err, io.EOF) {
			t.Errorf("call read %v then %v, want its response", got, err)
		}
	})
	t.Run("a call whose stream is closed is unrouted", func(t *testing.T) {
		r := upstream.NewRouter()
		a := register(t, r, request(t, "1", ""))
		a.Close()
		r.Dispatch(parse(t, logging))
		if got, _ := pending(t, r.Events()); len(got) != 1 {
			t.Errorf("events hold %v, want the notification", got)
		}
	})
	t.Run("a response after the call ended goes to events", func(t *testing.T) {
		r := upstream.NewRouter()
		a := register(t, r, request(t, "1", ""))
		r.Dispatch(response(t, "1"))
		r.Dispatch(response(t, "1"))
		if got, _ := drain(t, a); len(got) != 1 {
			t.Errorf("call read %v, want one response", got)
		}
		if got, _ := pending(t, r.Events()); len(got) != 1 {
			t.Errorf("events hold %v, want the duplicate response", got)
		}
	})
}

func BenchmarkRouterCall(b *testing.B) {
	r := upstream.NewRouter()
	req, _ := mcp.Parse([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}`))
	resp, _ := mcp.Parse([]byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hi"}]}}`))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := r.Register(req)
		if err != nil {
			b.Fatal(err)
		}
		r.Dispatch(resp)
		if _, err := s.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
