package pipeline

import (
	"context"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// Stage is one job of the chain (held tools, policy, audit…). Its request
// half runs, in the chain's order, before the upstream sees the request;
// its answer half runs, in reverse order, on each response that comes
// back and once on the exchange's end. A stage that has nothing to do on
// one side returns at once.
type Stage interface {
	// Request looks at the request on its way upstream and says what
	// happens next: Continue, Refuse, Reply or Suspend.
	Request(ctx context.Context, x *Exchange) Step
	// Answer looks at, and may rewrite, what goes back to the client.
	Answer(ctx context.Context, x *Exchange, a *Answer)
}

// Answer is what goes back to the client: a response message, or the
// failure or refusal that ends the exchange without one.
type Answer struct {
	// Msg is a response to relay; nil when Err is set.
	Msg *mcp.Message
	// Err ends the exchange: a refusal (an *mcp.Error from a stage) or
	// the upstream's failure.
	Err error
	// Final marks the exchange's own answer (the response carrying the
	// request's id, or the end): stages that act once per exchange (the
	// audit record) act on it; other responses on the stream are checked
	// too (a client may take "\u0031" for its answer) but are not final.
	Final bool
}

// Step is a request half's verdict.
type Step struct {
	refuse  *mcp.Error
	reply   *mcp.Message
	suspend *Suspension
	resume  bool
}

// Suspension holds an exchange until something outside it decides: an
// approval. The chain sends Ask to the client first (when set), then
// waits; when Wait returns nil the exchange resumes from the first stage
// (Wait records what changed, e.g. the approval to take, on the
// Exchange), else it ends with Wait's refusal.
type Suspension struct {
	Ask     *mcp.Message
	Wait    func(ctx context.Context) *mcp.Error
	Abandon func() // the client gave up before the exchange resumed
}

// Continue passes the request to the next stage.
func Continue() Step { return Step{} }

// Refuse ends the exchange with a JSON-RPC error before the upstream.
func Refuse(e *mcp.Error) Step { return Step{refuse: e} }

// Reply ends the exchange with the gateway's own answer m.
func Reply(m *mcp.Message) Step { return Step{reply: m} }

// Suspend holds the exchange until s decides it.
func Suspend(s Suspension) Step { return Step{suspend: &s} }

// Resume runs the exchange again from the first stage, now: the stage
// decided what held it (an approval waited for) and recorded it on the
// Exchange.
func Resume() Step { return Step{resume: true} }

func (s Step) goesOn() bool {
	return s.refuse == nil && s.reply == nil && s.suspend == nil && !s.resume
}
