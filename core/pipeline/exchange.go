// Package pipeline is the gateway's one request chain: every request a
// client sends to a connector — on a per-connector session, through the
// aggregate, over legacy SSE, translated in either direction, or on the
// sessionless 2026-07-28 passthrough — is an Exchange that runs through
// the same ordered list of Stages. A stage has a request half (run in
// order before the upstream; it may stop the exchange with an answer, or
// suspend it to ask the client and resume) and an answer half (run in
// reverse order on what comes back; it may rewrite the answer). The
// chain wraps the upstream's stream once for every answer half and the
// audit stage turns the finished exchange into one record.
//
// The package knows nothing of HTTP or of sessions: the protocol eras
// supply the way of asking for an approval (Asker) and the upstream call
// (Upstream).
package pipeline

import (
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// Exchange is one client request on its way through the chain and back.
// Stages read and write it; one exchange is used by one goroutine at a
// time (the request halves, then the stream's reader).
type Exchange struct {
	// Principal is the caller, with its roles as they are now.
	Principal auth.Principal
	// Slug names the connector; Connector is nil when no connector has
	// that slug (the upstream path answers "not found").
	Slug      string
	Connector *connector.Connector
	// Request is the request as it goes upstream: a stage may replace it
	// (a resumed sessionless call loses the gateway's requestState).
	Request *mcp.Message
	// Start is when the exchange began, for the record's latency.
	Start time.Time
	// Asker is the era's way of asking for an approval (nil: wait for
	// an approver through the admin API).
	Asker Asker

	// Use says how the policy stage treats a require-approval rule: the
	// zero value holds the call; an approval id takes that approval;
	// Continued lets a continuation of an approved call through.
	Use ApprovalUse
	// Admission is the policy's answer (decision, approval held, schema
	// validation).
	Admission access.Admission
	// Approval names the approval the call passed, for the record.
	Approval string
	// Reading is what the pre-call guards read of the request, for the
	// answer guards (the params and the arguments' scans, made once).
	Reading toolguard.Reading
	// Guarded is the answer guards' outcome on the exchange's answer.
	Guarded toolguard.Outcome
	// Offloaded is what the offload stage stored of the answer.
	Offloaded Offloaded
	// Relayed says the request went upstream (the upstream stage ran).
	Relayed bool
	// Framing, when set, is told by the upstream step how the upstream
	// framed its answer (plain JSON or a stream), for the era's writer
	// to mirror; the gateway's own answers leave it a stream.
	Framing *upstream.Framing
	// Reply is what the era's upstream stage keeps of the upstream's
	// reply beyond its messages (the sessionless passthrough's HTTP
	// status and body).
	Reply any
}

// ApprovalUse says how an exchange passes a require-approval rule.
type ApprovalUse struct {
	// ID is the approval to take, once, for this very call.
	ID string
	// Continued: the request continues an approved call that went
	// upstream already (its own input_required round trip).
	Continued bool
}

// IsCall reports whether the exchange is a tools/call to a connector.
func (x *Exchange) IsCall() bool {
	return x.Request != nil && x.Request.Method == mcp.MethodToolsCall
}
