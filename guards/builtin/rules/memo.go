package rules

import (
	"sync"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// Purposes remembers what tools declare they do (declaredPurpose: half a
// dozen case-insensitive expressions over a tool's name and description,
// most of a small call's rule time), keyed by the exact name and
// description, so a tool called again is not re-read. A value is what
// declaredPurpose returns for its key, so a hit changes no verdict.
//
// A Purposes is safe for concurrent use. It holds at most purposeEntries
// tools of at most purposeKeyBytes each (larger ones are not kept) and
// forgets all when full. The zero value is not usable; a nil *Purposes
// remembers nothing.
type Purposes struct {
	mu sync.Mutex
	m  map[toolKey]purpose
}

const (
	purposeEntries  = 4096
	purposeKeyBytes = 4 << 10
)

type toolKey struct{ name, desc string }

// NewPurposes returns an empty memo.
func NewPurposes() *Purposes { return &Purposes{m: map[toolKey]purpose{}} }

// of is declaredPurpose(t), remembered.
func (p *Purposes) of(t *guard.ToolRef) purpose {
	if p == nil || t == nil || len(t.Name)+len(t.Description) > purposeKeyBytes {
		return declaredPurpose(t)
	}
	k := toolKey{t.Name, t.Description}
	p.mu.Lock()
	v, ok := p.m[k]
	p.mu.Unlock()
	if ok {
		return v
	}
	v = declaredPurpose(t)
	p.mu.Lock()
	if len(p.m) >= purposeEntries {
		clear(p.m)
	}
	p.m[k] = v
	p.mu.Unlock()
	return v
}

// ToolCall is the package's ToolCall with tools' purposes remembered.
func (p *Purposes) ToolCall(in *guard.Input) guard.Verdict { return toolCall(p, nil, in) }

// ToolIntent is the package's ToolIntent with tools' purposes remembered.
func (p *Purposes) ToolIntent(in *guard.Input) guard.Verdict { return toolIntent(p, nil, in) }
