package era

import (
	"bytes"
	"iter"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// paramPrefix starts the names of the headers a tool's schema binds
// arguments to (x-mcp-header).
const paramPrefix = "Mcp-Param-"

// Header holds the headers of one request the eras route and check on:
// session id, protocol version, Mcp-Method, Mcp-Name and Mcp-Param-*.
// It is copied off the wire, so it outlives the request's buffers; the
// zero value is a request that sent none of them. A repeated header
// counts with its last value, for the checks and the forwarding alike.
type Header struct {
	sessionID, version, method, name string
	params                           [][2]string // Mcp-Param-*: name as sent, value
}

// ReadHeader picks the era headers from all of a request's headers
// (fasthttp's RequestHeader.All).
func ReadHeader(all iter.Seq2[[]byte, []byte]) Header {
	var h Header
	for k, v := range all {
		switch {
		case bytes.EqualFold(k, []byte(mcp.HeaderSessionID)):
			h.sessionID = string(v)
		case bytes.EqualFold(k, []byte(mcp.HeaderProtocolVersion)):
			h.version = string(v)
		case bytes.EqualFold(k, []byte(mcp.HeaderMethod)):
			h.method = string(v)
		case bytes.EqualFold(k, []byte(mcp.HeaderName)):
			h.name = string(v)
		case len(k) > len(paramPrefix) && bytes.EqualFold(k[:len(paramPrefix)], []byte(paramPrefix)):
			h.params = append(h.params, [2]string{string(k), string(v)})
		}
	}
	return h
}

// SessionID is the Mcp-Session-Id header, without surrounding space.
func (h Header) SessionID() string { return strings.TrimSpace(h.sessionID) }

// Version is the MCP-Protocol-Version header, without surrounding space.
func (h Header) Version() string { return strings.TrimSpace(h.version) }

// Method is the Mcp-Method header, without surrounding space (RFC 9110
// §5.5).
func (h Header) Method() string { return strings.TrimSpace(h.method) }

// Name is the Mcp-Name header, without surrounding space.
func (h Header) Name() string { return strings.TrimSpace(h.name) }

// Forward returns the headers a modern upstream routes and validates on:
// everything but the session id, values as sent.
func (h Header) Forward() map[string]string {
	out := make(map[string]string, 3+len(h.params))
	for _, kv := range [...][2]string{{mcp.HeaderProtocolVersion, h.version}, {mcp.HeaderMethod, h.method}, {mcp.HeaderName, h.name}} {
		if kv[1] != "" {
			out[kv[0]] = kv[1]
		}
	}
	for _, kv := range h.params {
		out[kv[0]] = kv[1]
	}
	return out
}

// Params returns the Mcp-Param-* headers, names lowercased and without
// the prefix (nil: none).
func (h Header) Params() map[string]string {
	if len(h.params) == 0 {
		return nil
	}
	out := make(map[string]string, len(h.params))
	for _, kv := range h.params {
		out[strings.ToLower(kv[0][len(paramPrefix):])] = kv[1]
	}
	return out
}
