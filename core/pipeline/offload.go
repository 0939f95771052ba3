package pipeline

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/offload"
)

// Offloader stores large tool outputs and reads them back
// (core/offload.Offloader implements it).
type Offloader interface {
	Rewrite(ctx context.Context, c offload.Call, result json.RawMessage) (json.RawMessage, offload.Outcome)
	ReadResult(ctx context.Context, user, slug, uri string, modern bool) (json.RawMessage, *mcp.Error)
}

// Offloaded is what the offload stage did with an exchange's answer, for
// the audit record.
type Offloaded struct {
	// Outputs are the outputs stored (the answer links to them).
	Outputs []OffloadedOutput
	// Refused is the quota's refusal (the answer became a tool error).
	Refused string
	// Failed is a store failure (the answer was relayed unchanged).
	Failed string
}

// OffloadedOutput is one stored output.
type OffloadedOutput struct {
	ID    string
	Bytes int64
}

// Offload is the stage that keeps large tool outputs out of the client's
// context. Its answer half replaces a tools/call result above the
// connector's threshold by previews and resource_links (core/offload);
// it sits above the answer guards in the chain, so its answer half runs
// after theirs: the guards see the whole output. Its request half answers
// resources/read of the gateway's own offload URIs itself, for the user
// who made them on this connector only (before the policy stage: reading
// back one's own output needs no resource rule). It also advertises the
// resources capability on server/discover, answers an upstream's missing
// resources/list with an empty list, and learns from listings which
// tools declare an outputSchema (their structuredContent stays in place).
type Offload struct {
	o Offloader

	mu sync.Mutex
	// schemas: connector slug → tool → whether it declares an
	// outputSchema, as last listed through the chain.
	schemas map[string]map[string]bool
}

// NewOffload returns the offload stage, or nil without an offloader.
func NewOffload(o Offloader) Stage {
	if o == nil {
		return nil
	}
	return &Offload{o: o, schemas: map[string]map[string]bool{}}
}

// Request answers a read of an offload URI.
func (s *Offload) Request(ctx context.Context, x *Exchange) Step {
	if x.Connector == nil || x.Request.Method != mcp.MethodResourcesRead {
		return Continue()
	}
	uri := x.Request.TargetName()
	if !offload.IsURI(uri) {
		return Continue()
	}
	modern := x.Request.MetaProtocolVersionOf() == mcp.Version20260728
	result, rpcErr := s.o.ReadResult(ctx, x.Principal.User, x.Slug, uri, modern)
	if rpcErr != nil {
		return Refuse(rpcErr)
	}
	return Reply(&mcp.Message{JSONRPC: "2.0", ID: x.Request.ID, Result: result})
}

// Answer offloads a large tools/call result and does the stage's
// listing and capability work.
func (s *Offload) Answer(ctx context.Context, x *Exchange, a *Answer) {
	c := x.Connector
	if a.Msg == nil || c == nil || !x.Relayed || x.Principal.System {
		return
	}
	switch x.Request.Method {
	case mcp.MethodToolsCall:
		if a.Final && a.Msg.Result != nil && c.Advanced.OffloadEnabled() {
			s.offload(ctx, x, a)
		}
	case mcp.MethodToolsList:
		if a.Msg.Result != nil {
			s.learn(c.Slug, a.Msg.Result)
		}
	case mcp.MethodServerDiscover:
		if a.Msg.Result != nil && c.Advanced.OffloadEnabled() {
			a.Msg = withResult(a.Msg, offload.Advertise(a.Msg.Result))
		}
	case mcp.MethodResourcesList:
		// The gateway says it serves resources (its links) even when the
		// upstream does not: its "no such method" becomes an empty list.
		if e := a.Msg.Error; e != nil && e.Code == mcp.CodeMethodNotFound && c.Advanced.OffloadEnabled() {
			empty := json.RawMessage(`{"resources":[]}`)
			if x.Request.MetaProtocolVersionOf() == mcp.Version20260728 {
				empty = json.RawMessage(`{"resources":[],"resultType":"complete","ttlMs":0,"cacheScope":"private"}`)
			}
			a.Msg = &mcp.Message{JSONRPC: "2.0", ID: a.Msg.ID, Result: empty}
		}
	}
}

func (s *Offload) offload(ctx context.Context, x *Exchange, a *Answer) {
	tool := x.Request.TargetName()
	call := offload.Call{User: x.Principal.User, Connector: x.Slug, Tool: tool,
		Threshold: x.Connector.Advanced.OffloadThresholdBytes, KeepStructured: s.keepStructured(x.Slug, tool)}
	result, out := s.o.Rewrite(ctx, call, a.Msg.Result)
	for _, st := range out.Stored {
		x.Offloaded.Outputs = append(x.Offloaded.Outputs, OffloadedOutput{ID: st.ID, Bytes: st.Size})
	}
	if out.Refused != nil {
		x.Offloaded.Refused = out.Refused.Error()
	}
	if out.Failed != nil {
		x.Offloaded.Failed = out.Failed.Error()
	}
	if len(out.Stored) > 0 || out.Refused != nil {
		a.Msg = withResult(a.Msg, result)
	}
}

// keepStructured reports whether a tool's structuredContent must stay in
// place: it declares an outputSchema, or the gateway has not seen its
// definition (it cannot know).
func (s *Offload) keepStructured(slug, tool string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	has, known := s.schemas[slug][tool]
	return has || !known
}

// learn records which tools of a listing page declare an outputSchema.
func (s *Offload) learn(slug string, result json.RawMessage) {
	var page struct {
		Tools []struct {
			Name         string          `json:"name"`
			OutputSchema json.RawMessage `json:"outputSchema"`
		} `json:"tools"`
	}
	if json.Unmarshal(result, &page) != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tools := s.schemas[slug]
	if tools == nil {
		tools = map[string]bool{}
		s.schemas[slug] = tools
	}
	for _, t := range page.Tools {
		tools[t.Name] = len(t.OutputSchema) > 0 && string(t.OutputSchema) != "null"
	}
}

// withResult is response m with result instead of its own.
func withResult(m *mcp.Message, result json.RawMessage) *mcp.Message {
	return &mcp.Message{JSONRPC: "2.0", ID: m.ID, Result: result}
}
