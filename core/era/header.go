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

// Header holds the headers of one request the eras route and check on
// (session id, protocol version, Mcp-Method, Mcp-Name, Mcp-Param-*),
// names as sent. It is copied off the wire, so it outlives the request's
// buffers.
type Header map[string]string

// ReadHeader picks the era headers from all of a request's headers
// (fasthttp's RequestHeader.All).
func ReadHeader(all iter.Seq2[[]byte, []byte]) Header {
	var h Header
	for k, v := range all {
		if !isEraHeader(k) {
			continue
		}
		if h == nil {
			h = make(Header, 4)
		}
		h[string(k)] = string(v)
	}
	return h
}

func isEraHeader(k []byte) bool {
	for _, name := range [...]string{mcp.HeaderSessionID, mcp.HeaderProtocolVersion, mcp.HeaderMethod, mcp.HeaderName} {
		if bytes.EqualFold(k, []byte(name)) {
			return true
		}
	}
	return len(k) > len(paramPrefix) && bytes.EqualFold(k[:len(paramPrefix)], []byte(paramPrefix))
}

// Get returns the value of header name (case-insensitive), without
// surrounding whitespace (RFC 9110 §5.5), or "".
func (h Header) Get(name string) string {
	if v, ok := h[name]; ok {
		return strings.TrimSpace(v)
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Forward returns the headers a modern upstream routes and validates on:
// everything but the session id, names as sent.
func (h Header) Forward() map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if !strings.EqualFold(k, mcp.HeaderSessionID) {
			out[k] = v
		}
	}
	return out
}

// Params returns the Mcp-Param-* headers, names lowercased and without
// the prefix (nil: none).
func (h Header) Params() map[string]string {
	var out map[string]string
	for k, v := range h {
		if len(k) > len(paramPrefix) && strings.EqualFold(k[:len(paramPrefix)], paramPrefix) {
			if out == nil {
				out = map[string]string{}
			}
			out[strings.ToLower(k[len(paramPrefix):])] = v
		}
	}
	return out
}
