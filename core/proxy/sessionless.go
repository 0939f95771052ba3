package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/pipeline"
)

// Approvals on the sessionless (2026-07-28) passthrough. A held call from
// a client that declared elicitation is answered with an input_required
// result carrying the approval's elicitation under approvalInputKey and a
// gateway requestState; the client's retry brings the answer, and the
// approved call goes upstream without the gateway's state. If the
// upstream then asks for input itself, its requestState is remembered as
// a continuation of the approved call (noteAnswer, when the call is
// observed), so the retries it causes are not held again. Clients without elicitation wait for an admin's decision.

// approvalInputKey names the approval's elicitation in inputRequests.
const approvalInputKey = "gatehouse-approval"

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

// SessionlessAdmission is the gateway's answer to a sessionless request.
type SessionlessAdmission struct {
	access.Admission
	// Forward is the request to send upstream when admitted (a resumed
	// call loses the gateway's requestState and inputResponses).
	Forward *mcp.Message
	// Answer, when set, is the gateway's own answer: input_required
	// asking for an approval, or a tool error for invalid arguments.
	Answer *mcp.Message
	// Approval names the approval the call passed, if any.
	Approval string
}

// AdmitSessionless runs the gateway's checks on a sessionless request to
// slug (see admit), handling approvals the 2026-07-28 way. A refusal is
// reported to the audit log here, except that of a name too long to
// record.
func (p *Proxy) AdmitSessionless(ctx context.Context, principal auth.Principal, slug string, req *mcp.Message) SessionlessAdmission {
	if rpcErr := p.opts.Limits.nameError(req, slug == ""); rpcErr != nil {
		return SessionlessAdmission{Admission: access.Admission{Err: rpcErr}}
	}
	start := time.Now()
	out := p.admitSessionless(ctx, principal, slug, req)
	switch {
	case out.Err != nil:
		out.Err = p.observeDenied(ctx, principal.User, slug, req, start, out.Admission, out.Err)
	case out.Invalid != nil:
		out.Answer = p.invalidAnswer(ctx, principal.User, slug, req, start, out.Admission)
	}
	return out
}

func (p *Proxy) admitSessionless(ctx context.Context, principal auth.Principal, slug string, req *mcp.Message) SessionlessAdmission {
	if req.Method == mcp.MethodToolsCall && p.opts.Access != nil {
		if token := requestStateOf(req); token != "" {
			if st := p.takeHeld(token); st != nil {
				return p.resumeHeld(ctx, principal, slug, req, st)
			}
		}
		if approval := p.continues(principal, slug, req); approval != "" {
			adm := p.admit(ctx, principal, slug, req, approvalUse{continued: true})
			return SessionlessAdmission{Admission: adm, Forward: req, Approval: approval}
		}
	}
	adm := p.admit(ctx, principal, slug, req, approvalUse{})
	out := SessionlessAdmission{Admission: adm, Forward: req}
	if adm.Err != nil || adm.Invalid != nil || adm.Approval == nil {
		return out
	}
	if modernElicits(req) && adm.Approval.CallerDecides() {
		out.Answer = p.askApproval(principal, slug, req, adm.Approval)
		return out
	}
	// Nobody is asked who may not approve: the call waits for an approver.
	if out.Err = p.awaitApproval(ctx, adm); out.Err != nil {
		return out
	}
	return p.admitApproved(ctx, principal, slug, req, adm.Approval.ID)
}

// admitApproved checks an approved call again (policies may have changed
// meanwhile) and takes its approval, once, for this very call; fwd goes
// upstream.
func (p *Proxy) admitApproved(ctx context.Context, principal auth.Principal, slug string, fwd *mcp.Message, approval string) SessionlessAdmission {
	out := SessionlessAdmission{Admission: p.admit(ctx, principal, slug, fwd, approvalUse{id: approval}), Forward: fwd}
	if out.Err == nil {
		out.Approval = approval
	}
	return out
}

// askApproval parks a held call and answers input_required with the
// approval's elicitation.
func (p *Proxy) askApproval(principal auth.Principal, slug string, req *mcp.Message, ap *access.Approval) *mcp.Message {
	token := randomHex(16)
	p.mu.Lock()
	p.heldStates[token] = &heldState{ap: ap, user: principal.User, slug: slug, args: compact(ap.Arguments)}
	p.mu.Unlock()
	time.AfterFunc(time.Until(ap.ExpiresAt)+time.Minute, func() { p.takeHeld(token) })
	ask, _ := pipeline.Elicitation(nil, ap)
	inputs, _ := json.Marshal(map[string]any{approvalInputKey: map[string]json.RawMessage{
		"method": json.RawMessage(strconv.Quote(ask.Method)), "params": ask.Params}})
	res, _ := json.Marshal(map[string]json.RawMessage{
		"resultType":    json.RawMessage(`"input_required"`),
		"inputRequests": inputs,
		"requestState":  json.RawMessage(strconv.Quote(token)),
	})
	return &mcp.Message{JSONRPC: "2.0", ID: req.ID, Result: res}
}

// resumeHeld takes the retry of a call asked back for its approval: the
// caller's answer decides the approval (unless an admin did), and the
// approved call, unchanged, goes upstream.
func (p *Proxy) resumeHeld(ctx context.Context, principal auth.Principal, slug string, req *mcp.Message, st *heldState) SessionlessAdmission {
	refuse := func(e *mcp.Error) SessionlessAdmission {
		return SessionlessAdmission{Admission: access.Admission{Err: e}}
	}
	if st.user != principal.User || st.slug != slug {
		return refuse(mcp.NewError(mcp.CodeInvalidParams, "invalid params: requestState is unknown, already used or expired; send the request again without it"))
	}
	var params struct {
		Name           string                     `json:"name"`
		Arguments      json.RawMessage            `json:"arguments"`
		InputResponses map[string]json.RawMessage `json:"inputResponses"`
	}
	_ = json.Unmarshal(req.Params, &params)
	approvals := p.opts.Access.Approvals()
	if answer, ok := params.InputResponses[approvalInputKey]; ok {
		approve, note := pipeline.ElicitationAnswer(&mcp.Message{Result: answer})
		_, _ = approvals.Decide(st.ap.ID, access.Actor{User: principal.User, Roles: principal.Roles}, approve, "elicitation", note)
	}
	final, decided := approvals.Final(st.ap)
	if !decided {
		final = approvals.Wait(ctx, st.ap) // no answer in the retry: an admin may still decide
	}
	if e := access.Outcome(final); e != nil {
		return refuse(e)
	}
	if params.Name != st.ap.Tool || !bytes.Equal(compact(params.Arguments), st.args) {
		return refuse(mcp.Errorf(mcp.CodePolicyDenied, "denied by policy: approval %s was given for call %s with other arguments; send the call again without requestState", st.ap.ID, st.ap.Tool))
	}
	return p.admitApproved(ctx, principal, slug, withoutInputState(req), st.ap.ID)
}

// noteAnswer remembers an approved call whose answer is input_required
// (the upstream asks the client something): the retries it causes — the
// same call with inputResponses, and its requestState if it has one —
// continue the approved call and are not held again.
func (p *Proxy) noteAnswer(user, slug, approval string, req, resp *mcp.Message) {
	if approval == "" || resp == nil || len(resp.Result) == 0 {
		return
	}
	var r struct {
		ResultType   string `json:"resultType"`
		RequestState string `json:"requestState"`
	}
	if json.Unmarshal(resp.Result, &r) != nil || r.ResultType != "input_required" {
		return
	}
	keys := []string{callFingerprint(user, slug, req)}
	if r.RequestState != "" {
		keys = append(keys, "state\x00"+r.RequestState)
	}
	c := continuation{user: user, slug: slug, approval: approval, until: time.Now().Add(parkedTTL)}
	p.mu.Lock()
	for _, k := range keys {
		p.continuations[k] = c
	}
	p.mu.Unlock()
	time.AfterFunc(parkedTTL, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, k := range keys {
			if p.continuations[k].until.Equal(c.until) {
				delete(p.continuations, k)
			}
		}
	})
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

// continues returns the approval req continues, if any: a retry carrying
// the requestState the upstream gave the approved call, or the approved
// call again with inputResponses.
func (p *Proxy) continues(principal auth.Principal, slug string, req *mcp.Message) string {
	var params struct {
		RequestState   string                     `json:"requestState"`
		InputResponses map[string]json.RawMessage `json:"inputResponses"`
	}
	_ = json.Unmarshal(req.Params, &params)
	var keys []string
	if params.RequestState != "" {
		keys = append(keys, "state\x00"+params.RequestState)
	}
	if len(params.InputResponses) > 0 {
		keys = append(keys, callFingerprint(principal.User, slug, req))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range keys {
		if c, ok := p.continuations[k]; ok && c.user == principal.User && c.slug == slug && time.Now().Before(c.until) {
			return c.approval
		}
	}
	return ""
}

func (p *Proxy) takeHeld(token string) *heldState {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.heldStates[token]
	delete(p.heldStates, token)
	return st
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
	return len(caps) > 0 && elicits(json.RawMessage(`{"capabilities":`+string(caps)+`}`))
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
