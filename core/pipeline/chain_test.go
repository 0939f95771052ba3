package pipeline

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/upstreamtest"
)

// probe is a stage that logs its halves and does what its fields say.
type probe struct {
	name    string
	log     *[]string
	step    func(x *Exchange) Step
	rewrite func(a *Answer)
}

func (p *probe) Request(_ context.Context, x *Exchange) Step {
	*p.log = append(*p.log, p.name+".request")
	if p.step != nil {
		return p.step(x)
	}
	return Continue()
}

func (p *probe) Answer(_ context.Context, _ *Exchange, a *Answer) {
	mark := ""
	if a.Final {
		mark = "!"
	}
	*p.log = append(*p.log, p.name+".answer"+mark)
	if p.rewrite != nil {
		p.rewrite(a)
	}
}

// echo is an upstream answering the request with an empty result, after
// a progress notification; it logs that it ran.
func echo(log *[]string) Upstream {
	return func(_ context.Context, x *Exchange) (upstream.Stream, error) {
		*log = append(*log, "upstream")
		q := upstream.NewQueue(4)
		n, _ := mcp.NewNotification("notifications/progress", map[string]any{"progress": 1})
		q.Push(n)
		m, _ := mcp.NewResult(x.Request.ID, map[string]any{})
		q.Push(m)
		q.Finish(nil)
		return q, nil
	}
}

func drain(t *testing.T, st upstream.Stream) []*mcp.Message {
	t.Helper()
	defer st.Close()
	var out []*mcp.Message
	for {
		m, err := st.Next(upstreamtest.Guard(t))
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
}

func exchange(t *testing.T) *Exchange {
	return &Exchange{Slug: "api", Request: upstreamtest.ToolCall(t, 7, "echo", `{}`)}
}

func TestTheChainRunsRequestHalvesInOrderAndAnswerHalvesInReverse(t *testing.T) {
	var log []string
	c := New(&probe{name: "a", log: &log}, nil, &probe{name: "b", log: &log})
	st, err := c.Run(upstreamtest.Guard(t), exchange(t), echo(&log))
	if err != nil {
		t.Fatal(err)
	}
	msgs := drain(t, st)
	if len(msgs) != 2 || msgs[0].Kind() != mcp.KindNotification {
		t.Fatalf("messages %v", msgs)
	}
	want := "a.request b.request upstream b.answer! a.answer!"
	if got := strings.Join(log, " "); got != want {
		t.Errorf("ran %q, want %q", got, want)
	}
}

func TestAStageStopsTheExchange(t *testing.T) {
	denied := mcp.NewError(mcp.CodePolicyDenied, "denied")
	for _, tc := range []struct {
		name    string
		step    Step
		wantErr bool
	}{
		{"a refusal is the error, the upstream never runs", Refuse(denied), true},
		{"a reply is the answer, the upstream never runs", Reply(mcp.NewErrorResponse([]byte("7"), denied)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			c := New(&probe{name: "a", log: &log},
				&probe{name: "b", log: &log, step: func(*Exchange) Step { return tc.step }},
				&probe{name: "c", log: &log})
			x := exchange(t)
			st, err := c.Run(upstreamtest.Guard(t), x, echo(&log))
			if tc.wantErr {
				if !errors.Is(err, denied) {
					t.Fatalf("error %v, want the refusal", err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if msgs := drain(t, st); len(msgs) != 1 || msgs[0].Error == nil {
					t.Fatalf("messages %v", msgs)
				}
			}
			if got, want := strings.Join(log, " "), "a.request b.request a.answer!"; got != want {
				t.Errorf("ran %q, want %q", got, want)
			}
			if x.Relayed {
				t.Error("the exchange says it was relayed")
			}
		})
	}
}

func TestAnAnswerHalfRewritesTheAnswer(t *testing.T) {
	var log []string
	blocked := mcp.NewErrorResponse([]byte("7"), mcp.NewError(mcp.CodeGuardBlocked, "blocked"))
	c := New(&probe{name: "guard", log: &log, rewrite: func(a *Answer) {
		if a.Msg != nil {
			a.Msg = blocked
		}
	}})
	st, err := c.Run(upstreamtest.Guard(t), exchange(t), echo(&log))
	if err != nil {
		t.Fatal(err)
	}
	msgs := drain(t, st)
	if len(msgs) != 2 || msgs[1] != blocked {
		t.Fatalf("the answer was not rewritten: %v", msgs)
	}
}

func TestTheExchangeEndsOnceWhateverEndsIt(t *testing.T) {
	broken := errors.New("connection reset")
	for _, tc := range []struct {
		name    string
		up      Upstream
		read    bool
		wantErr error
	}{
		{"the upstream call fails", func(context.Context, *Exchange) (upstream.Stream, error) { return nil, broken }, false, broken},
		{"the stream breaks", func(context.Context, *Exchange) (upstream.Stream, error) {
			q := upstream.NewQueue(1)
			q.Finish(broken)
			return q, nil
		}, true, broken},
		{"the stream is closed unanswered", func(context.Context, *Exchange) (upstream.Stream, error) {
			return upstream.NewQueue(1), nil
		}, false, ErrUnanswered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ends []error
			end := &probe{name: "audit", log: new([]string), rewrite: func(a *Answer) {
				if a.Final {
					ends = append(ends, a.Err)
				}
			}}
			st, err := New(end).Run(upstreamtest.Guard(t), exchange(t), tc.up)
			if st != nil {
				if tc.read {
					_, _ = st.Next(upstreamtest.Guard(t))
				}
				st.Close()
				st.Close()
			}
			_ = err
			if len(ends) != 1 || !errors.Is(ends[0], tc.wantErr) {
				t.Fatalf("ends %v, want one: %v", ends, tc.wantErr)
			}
		})
	}
}

func TestASuspendedExchangeAsksWaitsAndResumes(t *testing.T) {
	ask, _ := mcp.NewRequest([]byte(`"q"`), "elicitation/create", map[string]any{})
	for _, tc := range []struct {
		name     string
		decision *mcp.Error
		want     string
	}{
		{"approved: the chain runs again from the top and the upstream answers", nil,
			"a.request hold.request a.request hold.request upstream hold.answer! a.answer!"},
		{"refused: the refusal is the answer and the upstream never runs", mcp.NewError(mcp.CodePolicyDenied, "no"),
			"a.request hold.request a.answer!"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			hold := &probe{name: "hold", log: &log, step: func(x *Exchange) Step {
				if x.Use.ID != "" {
					return Continue()
				}
				return Suspend(Suspension{Ask: ask, Wait: func(context.Context) *mcp.Error {
					if tc.decision == nil {
						x.Use.ID = "ap-1"
					}
					return tc.decision
				}})
			}}
			st, err := New(&probe{name: "a", log: &log}, hold).Run(upstreamtest.Guard(t), exchange(t), echo(&log))
			if err != nil {
				t.Fatal(err)
			}
			msgs := drain(t, st)
			if msgs[0] != ask {
				t.Fatalf("first message %s, want the question", msgs[0].Bytes())
			}
			last := msgs[len(msgs)-1]
			if (tc.decision != nil) != (last.Error != nil) {
				t.Errorf("answer %s", last.Bytes())
			}
			if got := strings.Join(log, " "); got != tc.want {
				t.Errorf("ran %q, want %q", got, tc.want)
			}
		})
	}
}

func TestASuspendedExchangeClosedBeforeItsDecisionIsAbandoned(t *testing.T) {
	abandoned := 0
	hold := &probe{name: "hold", log: new([]string), step: func(*Exchange) Step {
		return Suspend(Suspension{Wait: func(ctx context.Context) *mcp.Error { <-ctx.Done(); return nil }, Abandon: func() { abandoned++ }})
	}}
	st, err := New(hold).Run(upstreamtest.Guard(t), exchange(t), echo(new([]string)))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if abandoned != 1 {
		t.Errorf("abandoned %d times", abandoned)
	}
}

func TestAResumeWithoutEndIsBounded(t *testing.T) {
	var log []string
	loop := &probe{name: "loop", log: &log, step: func(*Exchange) Step { return Resume() }}
	_, err := New(loop).Run(upstreamtest.Guard(t), exchange(t), echo(&log))
	if err == nil || strings.Contains(strings.Join(log, " "), "upstream") {
		t.Fatalf("error %v, ran %v", err, log)
	}
}
