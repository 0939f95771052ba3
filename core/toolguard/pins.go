package toolguard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// Tool statuses.
const (
	// ToolApproved: the definition matches its pin; clients see the tool.
	ToolApproved = "approved"
	// ToolHeldFlagged: the Tool List Guard blocked the definition when it
	// was first seen; held until an admin approves it.
	ToolHeldFlagged = "held-flagged"
	// ToolHeldChanged: the definition changed after it was pinned (a rug
	// pull); held until an admin approves the new definition.
	ToolHeldChanged = "held-changed"
)

// ToolState is what the gateway knows of one tool of a connector.
type ToolState struct {
	Name       string    `json:"name"`
	Hash       string    `json:"hash"`
	PinnedHash string    `json:"pinned_hash,omitempty"`
	Status     string    `json:"status"`
	Verdict    string    `json:"verdict"`
	Score      float64   `json:"score"`
	Reasons    []string  `json:"reasons,omitempty"`
	SeenAt     time.Time `json:"seen_at"`
	// Description is the definition's description as last seen (for the
	// admin deciding on a hold).
	Description string `json:"description,omitempty"`
}

// ToolScan is a connector's tool states, stored and shown on it.
type ToolScan struct {
	Connector string      `json:"connector"`
	ScannedAt time.Time   `json:"scanned_at"`
	Tools     []ToolState `json:"tools"`
}

// PinStore persists tool scans by connector id.
type PinStore interface {
	GetTools(ctx context.Context, connectorID string) (*ToolScan, error)
	PutTools(ctx context.Context, connectorID string, s *ToolScan) error
}

// ErrNoSuchTool is returned when approving a tool the gateway has not seen.
var ErrNoSuchTool = errors.New("no such tool on this connector (list its tools first)")

// Pins keeps tool definitions pinned by hash: a new definition is scanned
// by the Tool List Guard and pinned when it passes; a pinned tool whose
// definition changes is held back from clients until an admin approves it.
// It is safe for concurrent use.
type Pins struct {
	engine *Engine
	store  PinStore
	now    func() time.Time
	// OnHold is told of every tool newly held (the audit log records it).
	OnHold func(c *connector.Connector, t ToolState)
	// Peers lists the gateway's connectors (nil: none in view): a new or
	// changed definition is judged with the approved tools of the other
	// active ones in view (guard.Input.Known), as well as the connector's
	// own other tools.
	Peers func() []*connector.Connector

	mu    sync.Mutex
	scans map[string]*ToolScan // by connector id
}

// NewPins returns pins over store, scanning with engine.
func NewPins(engine *Engine, store PinStore) *Pins {
	return &Pins{engine: engine, store: store, now: func() time.Time { return time.Now().UTC() }, scans: map[string]*ToolScan{}}
}

// DefinitionHash is the hash a tool definition is pinned by: SHA-256 of
// its JSON with object keys sorted (re-encoding through a generic value
// sorts them), so formatting and key order do not matter.
func DefinitionHash(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	if m, ok := v.(map[string]any); ok {
		delete(m, "_meta") // transport metadata, not the definition
	}
	canon, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

func (p *Pins) load(ctx context.Context, id string) (*ToolScan, error) {
	if s, ok := p.scans[id]; ok {
		return s, nil
	}
	s, err := p.store.GetTools(ctx, id)
	if err != nil {
		return nil, err
	}
	if s == nil {
		s = &ToolScan{Connector: id}
	}
	p.scans[id] = s
	return s, nil
}

func find(s *ToolScan, name string) *ToolState {
	for i := range s.Tools {
		if s.Tools[i].Name == name {
			return &s.Tools[i]
		}
	}
	return nil
}

// FilterList applies the pins to a tools/list answer from c: it scans new
// and changed definitions and removes held tools from the answer.
func (p *Pins) FilterList(ctx context.Context, c *connector.Connector, resp *mcp.Message) (*mcp.Message, error) {
	if resp == nil || resp.Error != nil || len(resp.Result) == 0 {
		return resp, nil
	}
	var result map[string]json.RawMessage
	if err := json.Unmarshal(resp.Result, &result); err != nil {
		return resp, nil // not ours to judge; the client sees it as is
	}
	var tools []json.RawMessage
	if err := json.Unmarshal(result["tools"], &tools); err != nil {
		return resp, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	scan, err := p.load(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	changed := false
	kept := make([]json.RawMessage, 0, len(tools))
	// The tools in view, read once when a definition needs judging: the
	// other connectors' and this list's names.
	var peers, listed []guard.KnownTool
	peersRead := false
	for _, raw := range tools {
		var def guard.Tool
		if err := json.Unmarshal(raw, &def); err != nil || def.Name == "" {
			continue // a nameless tool cannot be called anyway
		}
		hash, err := DefinitionHash(raw)
		if err != nil {
			continue
		}
		st := find(scan, def.Name)
		switch {
		case st != nil && st.Hash == hash:
			// Seen as it is: its status stands.
		case st != nil && st.PinnedHash == hash:
			st.Hash, st.Status, st.Description = hash, ToolApproved, def.Description
			changed = true
		default:
			// New, or changed since it was seen: scan this definition.
			if !peersRead {
				if peers, err = p.peerTools(ctx, c); err != nil {
					return nil, err
				}
				listed, peersRead = listedTools(tools, c.Name), true
			}
			known := make([]guard.KnownTool, 0, len(listed)+len(peers))
			for _, k := range listed {
				if k.Name != def.Name {
					known = append(known, k)
				}
			}
			known = append(known, peers...)
			out := p.engine.CheckTools(ctx, guard.Connector{ID: c.ID, Name: c.Name, Sensitive: c.Advanced.Sensitive}, c.Slug, []guard.Tool{def}, known)
			next := ToolState{Name: def.Name, Hash: hash, Verdict: out.Action, SeenAt: p.now(), Description: def.Description}
			for _, f := range out.Findings {
				next.Reasons = append(next.Reasons, f.Code+": "+f.Message)
				next.Score = max(next.Score, f.Score)
			}
			switch {
			case st != nil && st.PinnedHash != "":
				next.PinnedHash, next.Status = st.PinnedHash, ToolHeldChanged
			case out.Action == guard.ActionBlock:
				next.Status = ToolHeldFlagged
			default:
				next.PinnedHash, next.Status = hash, ToolApproved
			}
			if st == nil {
				scan.Tools = append(scan.Tools, next)
			} else {
				*st = next
			}
			if next.Status != ToolApproved && p.OnHold != nil {
				p.OnHold(c, next)
			}
			changed = true
		}
		if find(scan, def.Name).Status == ToolApproved {
			kept = append(kept, raw)
		}
	}
	if changed {
		scan.ScannedAt = p.now()
		if err := p.store.PutTools(context.WithoutCancel(ctx), c.ID, scan); err != nil {
			return nil, fmt.Errorf("store tool pins of %s: %w", c.Slug, err)
		}
	}
	if len(kept) == len(tools) {
		return resp, nil
	}
	result["tools"], _ = json.Marshal(kept)
	m := *resp
	m.Result, _ = json.Marshal(result)
	m.Raw = nil
	return &m, nil
}

// Held reports whether tool of c is held back (and why): calls to it are
// refused before they reach the upstream.
func (p *Pins) Held(ctx context.Context, c *connector.Connector, tool string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	scan, err := p.load(ctx, c.ID)
	if err != nil {
		return "", false
	}
	if st := find(scan, tool); st != nil && st.Status != ToolApproved {
		return st.Status, true
	}
	return "", false
}

// Listed reports whether tool of c has been seen in one of c's listings
// (held tools included): calls to other names are labelled as one bucket
// in the metrics, so that clients cannot mint labels.
func (p *Pins) Listed(ctx context.Context, c *connector.Connector, tool string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	scan, err := p.load(ctx, c.ID)
	return err == nil && find(scan, tool) != nil
}

// Scan returns c's tool states.
func (p *Pins) Scan(ctx context.Context, c *connector.Connector) (ToolScan, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	scan, err := p.load(ctx, c.ID)
	if err != nil {
		return ToolScan{}, err
	}
	out := *scan
	out.Tools = append([]ToolState(nil), scan.Tools...)
	out.Connector = c.Slug
	return out, nil
}

// Approve pins tool's current definition and releases it.
func (p *Pins) Approve(ctx context.Context, c *connector.Connector, tool string) (ToolState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	scan, err := p.load(ctx, c.ID)
	if err != nil {
		return ToolState{}, err
	}
	st := find(scan, tool)
	if st == nil {
		return ToolState{}, ErrNoSuchTool
	}
	st.PinnedHash, st.Status = st.Hash, ToolApproved
	if err := p.store.PutTools(ctx, c.ID, scan); err != nil {
		return ToolState{}, err
	}
	return *st, nil
}

// Description is the description tool of c declared when the gateway
// last listed it ("" for a tool not seen): the pre-call guards judge a
// call's arguments against it (ToolDescriptions).
func (p *Pins) Description(ctx context.Context, c *connector.Connector, tool string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	scan, err := p.load(ctx, c.ID)
	if err != nil {
		return ""
	}
	if st := find(scan, tool); st != nil {
		return st.Description
	}
	return ""
}

// listedTools are the tools of a tools/list answer, as known tools of
// connector name.
func listedTools(tools []json.RawMessage, name string) []guard.KnownTool {
	out := make([]guard.KnownTool, 0, len(tools))
	for _, raw := range tools {
		var t struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(raw, &t) == nil && t.Name != "" {
			out = append(out, guard.KnownTool{Connector: name, Name: t.Name})
		}
	}
	return out
}

// peerTools are the approved tools of the active connectors other than
// c, as last listed (p.mu is held).
func (p *Pins) peerTools(ctx context.Context, c *connector.Connector) ([]guard.KnownTool, error) {
	if p.Peers == nil {
		return nil, nil
	}
	var out []guard.KnownTool
	for _, peer := range p.Peers() {
		if peer.ID == c.ID || peer.Status != connector.StatusActive {
			continue
		}
		scan, err := p.load(ctx, peer.ID)
		if err != nil {
			return nil, err
		}
		for _, t := range scan.Tools {
			if t.Status == ToolApproved {
				out = append(out, guard.KnownTool{Connector: peer.Name, Name: t.Name})
			}
		}
	}
	return out, nil
}
