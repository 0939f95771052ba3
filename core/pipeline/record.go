package pipeline

import (
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
)

// Record describes one finished tools/call: who called which tool of
// which connector, how long it took and how it ended. The audit stage
// builds it from the exchange; the audit log stores it.
type Record struct {
	User      string
	Connector string
	Tool      string
	// RequestID is the JSON-RPC id of the call as the connector's session
	// saw it, for matching an entry to a client's log.
	RequestID string
	Sensitive bool
	Latency   time.Duration
	// Outcome is "success", "error" (a JSON-RPC error or a transport
	// failure), "tool_error" (a result with isError: true) or "denied"
	// (refused by the gateway before the upstream).
	Outcome string
	// Error is the JSON-RPC error message or the failure, when any.
	Error string
	// Code is the JSON-RPC error code, when any.
	Code int
	// Guards are the ToolGuard verdicts on the call; Blocked says a guard
	// stopped its result.
	Guards  []toolguard.Verdict
	Blocked bool
	// Decision is the tool policy's: "allow" (also when no policy
	// applies), "deny", or "approved" (a require-approval rule held the
	// call and it was approved); Rule is the deciding rule, if any.
	Decision string
	Rule     string
	// Approval is the approval the call passed or failed, if any;
	// ApprovedBy and ApprovedVia say who decided it and how (admin-api,
	// elicitation, timeout, client), when known.
	Approval    string
	ApprovedBy  string
	ApprovedVia string
	// Unvalidated says why the arguments were not validated, if so.
	Unvalidated string
	// Invalid: the gateway answered the call itself because its
	// arguments failed the tool's input schema (Error says how).
	Invalid bool
	// Offloaded are the outputs of the answer the gateway stored and
	// linked (core/offload); OffloadRefused the quota's refusal, when the
	// answer became a tool error instead.
	Offloaded      []OffloadedOutput
	OffloadRefused string
	// Unlisted: the tool was never seen in the connector's listings
	// (known only with tool pins).
	Unlisted bool
}
