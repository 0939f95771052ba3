package proxy

import (
	"encoding/json"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// maxSlugBytes is the longest connector slug (core/connector's pattern).
const maxSlugBytes = 64

// nameError refuses a request whose tool or prompt name, or resource URI,
// is longer than the limits allow, before anything records it (the audit
// log, metrics labels, logs, schema learning): client-chosen names must
// not grow the gateway. namespaced: names carry a "{slug}__" prefix (the
// aggregate endpoint), which does not count.
//
// Members are matched as loosely as any reader of the request will match
// them: case-insensitively, the last of duplicates (encoding/json's
// rules), so no spelling of "name" slips past the cap.
func (l Limits) nameError(req *mcp.Message, namespaced bool) *mcp.Error {
	if req.Kind() != mcp.KindRequest || len(req.Params) == 0 {
		return nil
	}
	var kind string
	switch req.Method {
	case mcp.MethodToolsCall:
		kind = "tool"
	case mcp.MethodPromptsGet, mcp.MethodCompletionComplete: // a completion's ref names a prompt or a resource
		kind = "prompt"
	case mcp.MethodResourcesRead, mcp.MethodResourcesSubscribe, mcp.MethodResourcesUnsubscribe:
		kind = "resource"
	default:
		return nil
	}
	var params map[string]json.RawMessage
	if json.Unmarshal(req.Params, &params) != nil {
		return nil // not an object: the upstream refuses it, nobody records a name
	}
	if req.Method == mcp.MethodCompletionComplete {
		params = members(params, "ref")
	}
	for key, raw := range params {
		var max int
		var what string
		switch {
		case strings.EqualFold(key, "name"):
			max, what = l.NameMaxBytes, kind+" name"
		case strings.EqualFold(key, "uri"):
			max, what = l.URIMaxBytes, "resource URI"
		default:
			continue
		}
		var s string
		if max <= 0 || json.Unmarshal(raw, &s) != nil {
			continue
		}
		if namespaced && what != "resource URI" {
			if slug, plain, ok := strings.Cut(s, Separator); ok && len(slug) <= maxSlugBytes {
				s = plain
			}
		}
		if len(s) > max {
			limit := "name_max_bytes"
			if what == "resource URI" {
				limit = "uri_max_bytes"
			}
			return mcp.Errorf(mcp.CodeInvalidParams, "invalid params: the %s is %d bytes long, more than limits.%s (%d) allows", what, len(s), limit, max)
		}
	}
	return nil
}

// members returns the members of the objects under every spelling of
// key (as encoding/json matches it), merged.
func members(params map[string]json.RawMessage, key string) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, raw := range params {
		var m map[string]json.RawMessage
		if !strings.EqualFold(k, key) || json.Unmarshal(raw, &m) != nil {
			continue
		}
		for name, v := range m {
			if prev, ok := out[name]; !ok || len(v) > len(prev) {
				out[name] = v // the longest spelling is the one to judge
			}
		}
	}
	return out
}
