package pipeline

import (
	"bytes"
	"context"
	"errors"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// Audit is the stage that turns each finished tools/call into one Record
// and hands it to Commit, which returns once the record is durable (the
// audit log's group commit): the answer leaves only then, and when the
// record cannot be made durable the client gets CodeAuditUnavailable
// instead. It is the chain's first stage, so its answer half sees every
// way an exchange ends. Metrics are counted from the audit log's
// entries, so this stage feeds them too.
type Audit struct {
	commit    func(context.Context, Record) error
	listed    func(ctx context.Context, c *connector.Connector, tool string) bool
	approvals func() *access.Approvals
	log       zerolog.Logger
}

// NewAudit returns the audit stage, or nil (no stage) without commit.
// listed, when set, says whether a tool was ever listed (tool pins);
// approvals, when set, names who decided a call's approval.
func NewAudit(commit func(context.Context, Record) error, listed func(context.Context, *connector.Connector, string) bool, approvals func() *access.Approvals, log zerolog.Logger) Stage {
	if commit == nil {
		return nil
	}
	return &Audit{commit: commit, listed: listed, approvals: approvals, log: log}
}

// Request does nothing: the exchange's start is its Start.
func (s *Audit) Request(context.Context, *Exchange) Step { return Continue() }

// Answer records a tools/call once it ends and withholds the answer when
// the record is not durable.
func (s *Audit) Answer(ctx context.Context, x *Exchange, a *Answer) {
	if !a.Final || !x.IsCall() {
		return
	}
	rec := s.record(ctx, x)
	switch {
	case !x.Relayed && a.Err != nil:
		// Refused before the upstream: a held tool, a policy denial, a
		// denied or expired approval.
		rec.Outcome, rec.Error, rec.Decision = "denied", a.Err.Error(), "deny"
		var rpcErr *mcp.Error
		if errors.As(a.Err, &rpcErr) {
			rec.Error, rec.Code = rpcErr.Message, rpcErr.Code
		}
		if x.Admission.Decision.Rule != nil {
			rec.Rule = x.Admission.Decision.Rule.ID
		}
		if x.Admission.Approval != nil {
			s.noteApproval(&rec, x.Admission.Approval.ID)
		}
		rec.Unvalidated = x.Admission.Unvalidated
		rec.Guards, rec.Blocked = x.Guarded.Verdicts, x.Guarded.Action == "block" // a pre-call guard's
		if failed := s.durable(ctx, rec); failed != nil {
			a.Err = failed
		}
	case !x.Relayed && x.Admission.Invalid != nil:
		rec.Outcome, rec.Error, rec.Invalid = "tool_error", x.Admission.Invalid.Error(), true
		if failed := s.durable(ctx, rec); failed != nil {
			a.Msg = mcp.NewErrorResponse(x.Request.ID, failed)
		}
	case !x.Relayed:
		// The gateway asked the client back (input_required): the retry
		// is the call, and its record.
	default:
		rec.Guards, rec.Blocked = x.Guarded.Verdicts, x.Guarded.Action == "block"
		rec.Offloaded, rec.OffloadRefused = x.Offloaded.Outputs, x.Offloaded.Refused
		if x.Approval != "" {
			rec.Decision = "approved"
			s.noteApproval(&rec, x.Approval)
		}
		switch {
		case a.Err != nil:
			rec.Outcome, rec.Error = "error", a.Err.Error()
			var rpcErr *mcp.Error
			if errors.As(a.Err, &rpcErr) {
				rec.Code = rpcErr.Code
			}
		case a.Msg.Error != nil:
			rec.Outcome, rec.Error, rec.Code = "error", a.Msg.Error.Message, a.Msg.Error.Code
		case isToolError(a.Msg.Result):
			rec.Outcome = "tool_error"
		}
		failed := s.durable(ctx, rec)
		// A failure reaches the client as an error either way; a failed
		// record of it is logged.
		if failed != nil && a.Err == nil {
			a.Msg = mcp.NewErrorResponse(x.Request.ID, failed)
		}
	}
}

func (s *Audit) record(ctx context.Context, x *Exchange) Record {
	req := x.Request
	rec := Record{User: x.Principal.User, Connector: x.Slug, Tool: req.TargetName(), RequestID: string(req.ID),
		Latency: time.Since(x.Start), Outcome: "success", Decision: "allow"}
	if c := x.Connector; c != nil {
		rec.Sensitive = c.Advanced.Sensitive
		rec.Unlisted = s.listed != nil && !s.listed(context.WithoutCancel(ctx), c, rec.Tool)
	}
	return rec
}

// durable commits rec; non-nil is the error the client gets instead of
// the call's answer.
func (s *Audit) durable(ctx context.Context, rec Record) *mcp.Error {
	err := s.commit(ctx, rec)
	if err == nil {
		return nil
	}
	if ctx.Err() == nil {
		s.log.Error().Err(err).Str("user", rec.User).Str("connector", rec.Connector).Str("tool", rec.Tool).
			Msg("a tool call's audit entry is not durable: its answer is withheld")
	}
	return AuditUnavailable()
}

// noteApproval names approval id in rec, with who decided it and how.
func (s *Audit) noteApproval(rec *Record, id string) {
	rec.Approval = id
	if s.approvals == nil {
		return
	}
	if ap, ok := s.approvals().Get(id); ok && ap.Status != access.ApprovalPending {
		rec.ApprovedBy, rec.ApprovedVia = ap.DecidedBy, ap.Via
	}
}

// AuditUnavailable is the error a client gets instead of an answer whose
// audit entry could not be made durable. It names no internal detail.
func AuditUnavailable() *mcp.Error {
	return mcp.NewError(mcp.CodeAuditUnavailable, "the gateway could not record this tool call in its audit log, so its answer is withheld; the call may have run upstream")
}

// isToolError reports whether a tools/call result says isError: true.
// A result that holds neither the name isError nor a \u escape (the only
// way JSON can spell any of its letters otherwise) cannot say so, and is
// not decoded: that spares decoding a large answer on every call.
func isToolError(result []byte) bool {
	if len(result) == 0 || !bytes.Contains(result, []byte("isError")) && !bytes.Contains(result, []byte(`\u`)) {
		return false
	}
	var r struct {
		IsError bool `json:"isError"`
	}
	return jsonv2.Unmarshal(result, &r, jsonv2.RejectUnknownMembers(false)) == nil && r.IsError
}
