// Package redirect decides whether an OAuth redirect URI may receive an
// authorization code: the organisation's allowed and blocked lists (exact
// URIs and wildcard host patterns; blocked always wins) and the pending
// approvals a URI on neither list creates.
package redirect

// Outcome is what happens to a flow that names a redirect URI.
type Outcome string

// The outcomes.
const (
	// Allowed: the flow proceeds.
	Allowed Outcome = "allowed"
	// Blocked: the flow stops ("This redirect URI is blocked for your
	// organization").
	Blocked Outcome = "blocked"
	// Pending: the flow pauses until an admin approves the URI (it joins
	// the allowed list) or denies it (it joins the blocked list).
	Pending Outcome = "pending"
)

// Request is one redirect URI to decide, with who asks for it.
type Request struct {
	// URI is the redirect URI exactly as the client sent it.
	URI string
	// ClientID and ClientName name the OAuth client (a CIMD URL, a DCR
	// id, a pre-registered id).
	ClientID, ClientName string
	// User is the signed-in user whose flow it is ("" before sign-in or
	// at registration).
	User string
	// Source says where the URI came from: "authorize", "cimd", "dcr",
	// "admin".
	Source string
}

// Decision is the verdict on a Request.
type Decision struct {
	Outcome Outcome
	// Rule is the list entry that decided ("" for Pending, or for a
	// URI refused before any list was consulted).
	Rule string
	// PendingID names the pending approval of a Pending decision, for
	// the "waiting for admin approval" page and the admin API.
	PendingID string
	// Reason says why, in words shown to the user and written to the
	// audit log.
	Reason string
	// URI is the normal form of the request's URI ("" when it was
	// refused before it could be normalised).
	URI string
	// Class names the trick a URI refused before the lists showed (""
	// otherwise).
	Class Class
}
