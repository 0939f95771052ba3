package pipeline

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// ContinuationTTL bounds how long an approved call's input_required
// round trip may take to come back.
const ContinuationTTL = 5 * time.Minute

// ApprovalInputKey names the approval's elicitation in inputRequests.
const ApprovalInputKey = "gatehouse-approval"

// InputRequired asks for approvals the 2026-07-28 way, on the sessionless
// passthrough (it is those exchanges' Asker, and a stage that acts on
// them only). A held call from a client that declared elicitation is
// answered with an input_required result carrying the approval's
// elicitation under ApprovalInputKey and a gateway requestState; the
// client's retry brings the answer, and the approved call goes upstream
// without the gateway's state. If the upstream then asks for input
// itself, its requestState is remembered as a continuation of the
// approved call, so the retries it causes are not held again. Clients
// without elicitation, and calls the caller may not approve, wait for an
// approver's decision.
type InputRequired struct {
	approval *Approval

	mu            sync.Mutex
	held          map[string]*heldState // by the gateway's requestState
	continuations map[string]continuation
}

// NewInputRequired returns the 2026-07-28 approval flow over approval's
// registry.
func NewInputRequired(approval *Approval) *InputRequired {
	return &InputRequired{approval: approval, held: map[string]*heldState{}, continuations: map[string]continuation{}}
}

// heldState is a sessionless call asked back for its approval.
type heldState struct {
	ap         *access.Approval
	user, slug string
	args       json.RawMessage // the call's arguments, compacted
}

// continuation is an upstream requestState issued to an approved call.
type continuation struct {
	user, slug, approval string
	until                time.Time
}

// Ask answers input_required when the client may answer, else waits for
// an approver and resumes the exchange.
func (s *InputRequired) Ask(ctx context.Context, x *Exchange, ap *access.Approval) Step {
	if modernElicits(x.Request) && ap.CallerDecides() {
		return Reply(s.park(x, ap))
	}
	// Nobody is asked who may not approve: the call waits for an approver.
	if e := s.approval.Waiter(x, ap)(ctx); e != nil {
		return Refuse(e)
	}
	return Resume()
}

// Request takes the retry of a call asked back for its approval, or of
// an approved call's own input_required round trip.
func (s *InputRequired) Request(ctx context.Context, x *Exchange) Step {
	if x.Asker != Asker(s) || !x.IsCall() || x.Use != (ApprovalUse{}) {
		return Continue()
	}
	if token := requestStateOf(x.Request); token != "" {
		if st := s.take(token); st != nil {
			return s.resume(ctx, x, st)
		}
	}
	if approval := s.continues(x); approval != "" {
		x.Use, x.Approval = ApprovalUse{Continued: true}, approval
	}
	return Continue()
}

// Answer remembers an approved call whose answer is input_required (the
// upstream asks the client something): the retries it causes — the same
// call with inputResponses, and its requestState if it has one —
// continue the approved call and are not held again.
func (s *InputRequired) Answer(_ context.Context, x *Exchange, a *Answer) {
	if x.Asker != Asker(s) || !a.Final || !x.Relayed || x.Approval == "" || a.Msg == nil || len(a.Msg.Result) == 0 || !x.IsCall() {
		return
	}
	var r struct {
		ResultType   string `json:"resultType"`
		RequestState string `json:"requestState"`
	}
	if json.Unmarshal(a.Msg.Result, &r) != nil || r.ResultType != "input_required" {
		return
	}
	user, slug := x.Principal.User, x.Slug
	keys := []string{callFingerprint(user, slug, x.Request)}
	if r.RequestState != "" {
		keys = append(keys, "state\x00"+r.RequestState)
	}
	c := continuation{user: user, slug: slug, approval: x.Approval, until: time.Now().Add(ContinuationTTL)}
	s.mu.Lock()
	for _, k := range keys {
		s.continuations[k] = c
	}
	s.mu.Unlock()
	time.AfterFunc(ContinuationTTL, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, k := range keys {
			if s.continuations[k].until.Equal(c.until) {
				delete(s.continuations, k)
			}
		}
	})
}

// park keeps a held call for its retry and returns the input_required
// answer asking for the approval.
func (s *InputRequired) park(x *Exchange, ap *access.Approval) *mcp.Message {
	token := randomHex(16)
	s.mu.Lock()
	s.held[token] = &heldState{ap: ap, user: x.Principal.User, slug: x.Slug, args: compact(ap.Arguments)}
	s.mu.Unlock()
	time.AfterFunc(time.Until(ap.ExpiresAt)+time.Minute, func() { s.take(token) })
	ask, _ := Elicitation(nil, ap)
	inputs, _ := json.Marshal(map[string]any{ApprovalInputKey: map[string]json.RawMessage{
		"method": json.RawMessage(strconv.Quote(ask.Method)), "params": ask.Params}})
	res, _ := json.Marshal(map[string]json.RawMessage{
		"resultType":    json.RawMessage(`"input_required"`),
		"inputRequests": inputs,
		"requestState":  json.RawMessage(strconv.Quote(token)),
	})
	return &mcp.Message{JSONRPC: "2.0", ID: x.Request.ID, Result: res}
}

// resume takes the retry of a parked call: the caller's answer decides
// the approval (unless an approver did), and the approved call,
// unchanged, goes on without the gateway's state.
func (s *InputRequired) resume(ctx context.Context, x *Exchange, st *heldState) Step {
	if st.user != x.Principal.User || st.slug != x.Slug {
		return Refuse(mcp.NewError(mcp.CodeInvalidParams, "invalid params: requestState is unknown, already used or expired; send the request again without it"))
	}
	var params struct {
		Name           string                     `json:"name"`
		Arguments      json.RawMessage            `json:"arguments"`
		InputResponses map[string]json.RawMessage `json:"inputResponses"`
	}
	_ = json.Unmarshal(x.Request.Params, &params)
	approvals := s.approval.approvals
	if answer, ok := params.InputResponses[ApprovalInputKey]; ok {
		approve, note := ElicitationAnswer(&mcp.Message{Result: answer})
		_, _ = approvals.Decide(st.ap.ID, access.Actor{User: x.Principal.User, Roles: x.Principal.Roles}, approve, "elicitation", note)
	}
	final, decided := approvals.Final(st.ap)
	if !decided {
		final = approvals.Wait(ctx, st.ap) // no answer in the retry: an approver may still decide
	}
	if e := access.Outcome(final); e != nil {
		return Refuse(e)
	}
	if params.Name != st.ap.Tool || !bytes.Equal(compact(params.Arguments), st.args) {
		return Refuse(mcp.Errorf(mcp.CodePolicyDenied, "denied by policy: approval %s was given for call %s with other arguments; send the call again without requestState", st.ap.ID, st.ap.Tool))
	}
	x.Request = withoutInputState(x.Request)
	x.Use = ApprovalUse{ID: st.ap.ID}
	return Continue()
}

// continues returns the approval x's request continues, if any: a retry
// carrying the requestState the upstream gave the approved call, or the
// approved call again with inputResponses.
func (s *InputRequired) continues(x *Exchange) string {
	var params struct {
		RequestState   string                     `json:"requestState"`
		InputResponses map[string]json.RawMessage `json:"inputResponses"`
	}
	_ = json.Unmarshal(x.Request.Params, &params)
	var keys []string
	if params.RequestState != "" {
		keys = append(keys, "state\x00"+params.RequestState)
	}
	if len(params.InputResponses) > 0 {
		keys = append(keys, callFingerprint(x.Principal.User, x.Slug, x.Request))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if c, ok := s.continuations[k]; ok && c.user == x.Principal.User && c.slug == x.Slug && time.Now().Before(c.until) {
			return c.approval
		}
	}
	return ""
}

func (s *InputRequired) take(token string) *heldState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.held[token]
	delete(s.held, token)
	return st
}

// callFingerprint identifies a call by who made it and what it asks:
// tool and arguments (compacted), not its id or input responses.
func callFingerprint(user, slug string, req *mcp.Message) string {
	var params struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	_ = json.Unmarshal(req.Params, &params)
	return "call\x00" + user + "\x00" + slug + "\x00" + params.Name + "\x00" + string(compact(params.Arguments))
}

// modernElicits reports whether a 2026-07-28 request's client
// capabilities (in _meta) include elicitation.
func modernElicits(req *mcp.Message) bool {
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	if json.Unmarshal(req.Params, &p) != nil {
		return false
	}
	caps := p.Meta[mcp.MetaClientCapabilities]
	return len(caps) > 0 && Elicits(json.RawMessage(`{"capabilities":`+string(caps)+`}`))
}

func requestStateOf(req *mcp.Message) string {
	var p struct {
		RequestState string `json:"requestState"`
	}
	_ = json.Unmarshal(req.Params, &p)
	return p.RequestState
}

// withoutInputState is req without the gateway's requestState and the
// inputResponses that answered it.
func withoutInputState(req *mcp.Message) *mcp.Message {
	var params map[string]json.RawMessage
	if json.Unmarshal(req.Params, &params) != nil {
		return req
	}
	delete(params, "requestState")
	delete(params, "inputResponses")
	raw, err := json.Marshal(params)
	if err != nil {
		return req
	}
	return &mcp.Message{JSONRPC: "2.0", ID: req.ID, Method: req.Method, Params: raw}
}

// compact is raw without insignificant space ("{}" when absent or null),
// for comparing arguments.
func compact(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return json.RawMessage("{}")
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	out, _ := json.Marshal(v) // maps marshal with sorted keys
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
