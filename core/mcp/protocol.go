package mcp

import (
	"encoding/json"
	"slices"

	jsonv2 "github.com/go-json-experiment/json"
)

// Protocol revisions the gateway speaks. The last legacy revision has
// sessions and initialize; the modern one has neither (see MCP.md).
const (
	Version20241105 = "2024-11-05"
	Version20250326 = "2025-03-26"
	Version20250618 = "2025-06-18"
	Version20251125 = "2025-11-25"
	Version20260728 = "2026-07-28"

	LatestLegacyVersion = Version20251125
	LatestVersion       = Version20260728
)

// LegacyVersions lists the revisions negotiated through initialize, newest first.
var legacyVersions = []string{Version20251125, Version20250618, Version20250326, Version20241105}

// IsLegacyVersion reports whether v is a revision negotiated with initialize.
func IsLegacyVersion(v string) bool { return slices.Contains(legacyVersions, v) }

// IsKnownVersion reports whether the gateway speaks revision v.
func IsKnownVersion(v string) bool { return v == Version20260728 || IsLegacyVersion(v) }

// Method names of requests and notifications, both eras. Code outside
// core/mcp names a method only through these.
const (
	MethodInitialize           = "initialize"
	MethodInitialized          = "notifications/initialized"
	MethodPing                 = "ping"
	MethodToolsList            = "tools/list"
	MethodToolsCall            = "tools/call"
	MethodPromptsList          = "prompts/list"
	MethodPromptsGet           = "prompts/get"
	MethodResourcesList        = "resources/list"
	MethodResourceTemplates    = "resources/templates/list"
	MethodResourcesRead        = "resources/read"
	MethodResourcesSubscribe   = "resources/subscribe"
	MethodResourcesUnsubscribe = "resources/unsubscribe"
	MethodCompletionComplete   = "completion/complete"
	MethodLoggingSetLevel      = "logging/setLevel"
	MethodElicitationCreate    = "elicitation/create"
	MethodSamplingCreate       = "sampling/createMessage"
	MethodRootsList            = "roots/list"
	MethodServerDiscover       = "server/discover"
	MethodSubscriptionsListen  = "subscriptions/listen"

	MethodProgress             = "notifications/progress"
	MethodCancelled            = "notifications/cancelled"
	MethodMessage              = "notifications/message"
	MethodToolsListChanged     = "notifications/tools/list_changed"
	MethodPromptsListChanged   = "notifications/prompts/list_changed"
	MethodResourcesListChanged = "notifications/resources/list_changed"
	MethodResourceUpdated      = "notifications/resources/updated"
	MethodRootsListChanged     = "notifications/roots/list_changed"
	// MethodSubscriptionsAcknowledged is the 2026-07-28 notification that
	// opens a subscriptions/listen stream.
	MethodSubscriptionsAcknowledged = "notifications/subscriptions/acknowledged"
)

// Header names of the Streamable HTTP transport.
const (
	HeaderSessionID       = "Mcp-Session-Id"
	HeaderProtocolVersion = "Mcp-Protocol-Version"
	HeaderLastEventID     = "Last-Event-ID"
	HeaderMethod          = "Mcp-Method"
	HeaderName            = "Mcp-Name"
)

// ProgressToken returns params._meta.progressToken as raw JSON, or nil.
func (m *Message) ProgressToken() json.RawMessage {
	if len(m.Params) == 0 {
		return nil
	}
	var p struct {
		Meta struct {
			ProgressToken json.RawMessage `json:"progressToken"`
		} `json:"_meta"`
	}
	if jsonv2.Unmarshal(m.Params, &p) != nil {
		return nil
	}
	return p.Meta.ProgressToken
}

// NotificationProgressToken returns params.progressToken of a progress
// notification, or nil.
func (m *Message) NotificationProgressToken() json.RawMessage {
	if m.Method != MethodProgress || len(m.Params) == 0 {
		return nil
	}
	var p struct {
		ProgressToken json.RawMessage `json:"progressToken"`
	}
	if jsonv2.Unmarshal(m.Params, &p) != nil {
		return nil
	}
	return p.ProgressToken
}

// InitializeResult holds the fields of an initialize result the gateway reads.
type InitializeResult struct {
	ProtocolVersion string `json:"protocolVersion"`
}

// NegotiatedVersion reads protocolVersion from an initialize result.
func NegotiatedVersion(result json.RawMessage) string {
	var r InitializeResult
	if json.Unmarshal(result, &r) != nil {
		return ""
	}
	return r.ProtocolVersion
}

// TargetName returns what Mcp-Name names for m: params.name for tools and
// prompts, params.uri for resources, "" otherwise.
func (m *Message) TargetName() string {
	if len(m.Params) == 0 {
		return ""
	}
	var p struct {
		Name string `json:"name"`
		URI  string `json:"uri"`
	}
	if jsonv2.Unmarshal(m.Params, &p) != nil {
		return ""
	}
	if p.Name != "" {
		return p.Name
	}
	return p.URI
}

// Reserved _meta keys of the 2026-07-28 era.
const (
	MetaProtocolVersion    = "io.modelcontextprotocol/protocolVersion"
	MetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
	MetaClientInfo         = "io.modelcontextprotocol/clientInfo"
	MetaServerInfo         = "io.modelcontextprotocol/serverInfo"
	MetaLogLevel           = "io.modelcontextprotocol/logLevel"
	MetaSubscriptionID     = "io.modelcontextprotocol/subscriptionId"
)

// MetaProtocolVersionOf returns params._meta's protocol version, or "".
func (m *Message) MetaProtocolVersionOf() string {
	if len(m.Params) == 0 {
		return ""
	}
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	if jsonv2.Unmarshal(m.Params, &p) != nil {
		return ""
	}
	var v string
	_ = jsonv2.Unmarshal(p.Meta[MetaProtocolVersion], &v)
	return v
}
