package admin

import (
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// ApprovalRegistry holds the calls waiting for an approval
// (core/access.Approvals implements it).
type ApprovalRegistry interface {
	List(status string) []access.Approval
	Get(id string) (access.Approval, bool)
	Decide(id string, by access.Actor, approve bool, via, note string) (access.Approval, error)
}

// routeApprovals serves /approvals: the calls require-approval rules hold.
//
//	GET  /approvals[?status=pending|approved|denied|expired|abandoned]
//	GET  /approvals/{id}
//	POST /approvals/{id}/approve {"note": "..."}
//	POST /approvals/{id}/deny    {"note": "..."}
func (a *API) routeApprovals(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	if a.Approvals == nil {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "approvals are not enabled on this gateway", "")
		return
	}
	switch {
	case len(rest) == 0 && method == fasthttp.MethodGet:
		if !a.allow(ctx, p, policy.ResApprovals, policy.ActRead) {
			return
		}
		status := string(ctx.QueryArgs().Peek("status"))
		switch status {
		case "", access.ApprovalPending, access.ApprovalApproved, access.ApprovalDenied, access.ApprovalExpired, access.ApprovalAbandoned:
		default:
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_parameter", "status must be one of pending, approved, denied, expired, abandoned", "status")
			return
		}
		list := a.Approvals.List(status)
		for i := range list {
			list[i] = a.approvalFor(p, list[i])
		}
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"approvals": list})
	case len(rest) == 1 && method == fasthttp.MethodGet:
		if !a.allow(ctx, p, policy.ResApprovals, policy.ActRead) {
			return
		}
		ap, ok := a.Approvals.Get(rest[0])
		if !ok {
			writeError(ctx, fasthttp.StatusNotFound, "not_found", "no approval \""+rest[0]+"\"", "")
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, a.approvalFor(p, ap))
	case len(rest) == 2 && method == fasthttp.MethodPost && (rest[1] == "approve" || rest[1] == "deny"):
		a.decideApproval(ctx, p, rest[0], rest[1] == "approve")
	default:
		methodNotAllowed(ctx, method)
	}
}

func (a *API) decideApproval(ctx *fasthttp.RequestCtx, p auth.Principal, id string, approve bool) {
	if !a.allow(ctx, p, policy.ResApprovals, policy.ActApprove) {
		return
	}
	var body struct {
		Note string `json:"note"`
	}
	if len(ctx.PostBody()) > 0 {
		if err := decodeStrict(ctx.PostBody(), &body); err != nil {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
			return
		}
	}
	if len(body.Note) > 1000 {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "note must be at most 1000 characters", "note")
		return
	}
	if cur, ok := a.Approvals.Get(id); ok && !a.maySeeConnector(p, cur.Connector) {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no approval \""+id+"\"", "")
		return
	}
	// The registry checks the rule's approver: never the caller themself
	// (unless the approver is caller), else a holder of the approver role.
	ap, err := a.Approvals.Decide(id, access.Actor{User: p.User, Roles: p.Roles}, approve, "admin-api", body.Note)
	switch {
	case errors.Is(err, access.ErrSelfApproval), errors.Is(err, access.ErrNotApprover):
		writeError(ctx, fasthttp.StatusForbidden, "not_approver", id+": "+err.Error(), "")
		return
	case errors.Is(err, access.ErrApprovalNotFound):
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no approval \""+id+"\"", "")
		return
	case errors.Is(err, access.ErrApprovalNotPending):
		writeError(ctx, fasthttp.StatusConflict, "not_pending", id+": "+err.Error(), "")
		return
	case err != nil:
		writeError(ctx, fasthttp.StatusInternalServerError, "internal", err.Error(), "")
		return
	}
	// The decision itself is audited by the registry (approval.approved
	// or approval.denied, actor p.User, via admin-api).
	writeJSON(ctx, fasthttp.StatusOK, a.approvalFor(p, ap))
}

// approvalFor hides the tool and arguments of a sensitive connector's
// approval from callers who may not see that connector.
func (a *API) approvalFor(p auth.Principal, ap access.Approval) access.Approval {
	if ap.Sensitive && !a.maySeeConnector(p, ap.Connector) {
		ap.Tool, ap.Arguments = redacted, nil
	}
	return ap
}

// maySeeConnector reports whether p may see connector slug (sensitive
// connectors: the owner role or one of the connector's roles).
func (a *API) maySeeConnector(p auth.Principal, slug string) bool {
	c, ok := a.Registry.Lookup(slug)
	return !ok || c.VisibleTo(p.User, p.Roles)
}
