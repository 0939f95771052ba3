package catalog

import (
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

// Request states.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
)

// Request is a member's request for a connector: a catalog template, or a
// manual server described in full. An admin approves it (creating the
// connector) or rejects it with a note; either way the requester sees it.
type Request struct {
	ID        string `json:"id"`
	Requester string `json:"requester"`
	// Template is the catalog template requested; empty for a manual one.
	Template string `json:"template,omitempty"`
	// Manual describes a server that is not in the catalog.
	Manual *connector.Connector `json:"manual,omitempty"`
	// Slug is the connector slug the requester would like (optional).
	Slug      string     `json:"slug,omitempty"`
	Reason    string     `json:"reason"`
	Status    string     `json:"status"`
	Note      string     `json:"note,omitempty"`
	DecidedBy string     `json:"decided_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	// Connector is the slug of the connector an approval created.
	Connector string    `json:"connector,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// ErrNotPending is wrapped when a decision is made on a decided request.
var ErrNotPending = errors.New("request is not pending")

// Subject is what the request asks for, for duplicate detection: the
// template id, or the manual server's URL or command.
func (r *Request) Subject() string {
	if r.Template != "" {
		return "template:" + r.Template
	}
	if r.Manual == nil {
		return ""
	}
	if r.Manual.URL != "" {
		return "url:" + r.Manual.URL
	}
	return "command:" + r.Manual.Command
}

// Decide moves a pending request to status (approved or rejected).
func (r *Request) Decide(status, by, note, connectorSlug string, at time.Time) error {
	if r.Status != StatusPending {
		return fmt.Errorf("%w: it was already %s by %s", ErrNotPending, r.Status, r.DecidedBy)
	}
	if status != StatusApproved && status != StatusRejected {
		return fmt.Errorf("unknown decision %q", status)
	}
	r.Status, r.DecidedBy, r.Note, r.Connector = status, by, note, connectorSlug
	r.DecidedAt = &at
	return nil
}
