// Package mcp holds the JSON-RPC 2.0 envelope and the few MCP wire details
// the gateway must understand to route messages. It decodes only the
// envelope: params and results stay raw bytes that pass through untouched.
package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Kind classifies a JSON-RPC message.
type Kind uint8

// Message kinds.
const (
	KindInvalid Kind = iota
	KindRequest
	KindNotification
	KindResponse
)

func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindNotification:
		return "notification"
	case KindResponse:
		return "response"
	default:
		return "invalid"
	}
}

// Message is one JSON-RPC 2.0 message. Raw holds the exact bytes it was
// decoded from; when the gateway does not change a message it forwards Raw.
type Message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`

	Raw []byte `json:"-"`
}

// Kind reports what the message is. Validate has rejected ill-formed ones.
func (m *Message) Kind() Kind {
	switch {
	case m.Method != "" && len(m.ID) > 0:
		return KindRequest
	case m.Method != "":
		return KindNotification
	case len(m.ID) > 0 && (m.Result != nil || m.Error != nil):
		return KindResponse
	default:
		return KindInvalid
	}
}

// IDKey returns the id as a map key: the raw JSON text, which keeps 1 and
// "1" distinct as JSON-RPC requires.
func (m *Message) IDKey() string { return string(m.ID) }

// Bytes returns the wire form: Raw when present, else a fresh encoding.
func (m *Message) Bytes() []byte {
	if m.Raw != nil {
		return m.Raw
	}
	b, err := json.Marshal(m)
	if err != nil {
		// Every field is already valid JSON or a plain string.
		panic(fmt.Sprintf("mcp: encode message: %v", err))
	}
	m.Raw = b
	return b
}

// ErrBatch is returned for a JSON array: batches were removed in 2025-06-18
// and the gateway does not accept them.
var ErrBatch = errors.New("JSON-RPC batches are not supported")

// Parse decodes and validates one message. The returned error is an *Error
// ready to send back (with the id when it could be read). The message's Raw
// aliases data: a caller that keeps the message beyond the life of data's
// buffer (fasthttp reuses request bodies) must copy data first.
func Parse(data []byte) (*Message, *Error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, NewError(CodeParseError, "empty body: expected a JSON-RPC 2.0 message")
	}
	if data[0] == '[' {
		return nil, NewError(CodeInvalidRequest, ErrBatch.Error()+": send one message per request")
	}
	var env envelope
	if err := jsonv2.Unmarshal(data, &env); err != nil {
		return nil, decodeError(err)
	}
	m := Message{JSONRPC: env.JSONRPC, ID: env.ID, Method: env.Method, Params: env.Params, Result: env.Result, Error: env.Error, Raw: data}
	if err := m.Validate(); err != nil {
		return &m, err
	}
	return &m, nil
}

// Validate checks the JSON-RPC 2.0 envelope rules.
func (m *Message) Validate() *Error {
	if m.JSONRPC != "2.0" {
		return NewError(CodeInvalidRequest, fmt.Sprintf("invalid request: \"jsonrpc\" must be \"2.0\", got %q", m.JSONRPC))
	}
	if len(m.ID) > 0 && !validID(m.ID) {
		return NewError(CodeInvalidRequest, "invalid request: \"id\" must be a string or an integer")
	}
	switch m.Kind() {
	case KindInvalid:
		return NewError(CodeInvalidRequest, "invalid request: a message needs a \"method\", or an \"id\" with a \"result\" or \"error\"")
	case KindResponse:
		if m.Result != nil && m.Error != nil {
			return NewError(CodeInvalidRequest, "invalid response: both \"result\" and \"error\" are set")
		}
	case KindRequest, KindNotification:
		if len(m.Params) > 0 && m.Params[0] != '{' && !bytes.Equal(m.Params, []byte("null")) {
			return NewError(CodeInvalidRequest, "invalid request: \"params\" must be an object")
		}
		if len(m.Params) > 0 && m.Params[0] == '{' {
			var p paramsEnvelope
			if err := jsonv2.Unmarshal(m.Params, &p); err != nil {
				return decodeError(err)
			}
			if path, dup := FoldedDuplicate("arguments", p.Arguments); dup {
				return NewError(CodeInvalidParams, "invalid params: "+path+" repeats a member name of its object (names equal but for case are one name to many decoders); send each name once")
			}
		}
	}
	return nil
}

func validID(id json.RawMessage) bool {
	switch c := id[0]; {
	case c == '"':
		return true
	case c == '-' || (c >= '0' && c <= '9'):
		return !bytes.ContainsAny(id, ".eE")
	default:
		return false
	}
}

// NewRequest builds a request message with the given id and params.
func NewRequest(id json.RawMessage, method string, params any) (*Message, error) {
	raw, err := marshalParams(params)
	if err != nil {
		return nil, err
	}
	return &Message{JSONRPC: "2.0", ID: id, Method: method, Params: raw}, nil
}

// NewNotification builds a notification message.
func NewNotification(method string, params any) (*Message, error) {
	raw, err := marshalParams(params)
	if err != nil {
		return nil, err
	}
	return &Message{JSONRPC: "2.0", Method: method, Params: raw}, nil
}

// NewResult builds a successful response.
func NewResult(id json.RawMessage, result any) (*Message, error) {
	raw, err := json.Marshal(result)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return &Message{JSONRPC: "2.0", ID: id, Result: raw}, nil
}

// NewErrorResponse builds an error response; a nil id becomes JSON null as
// JSON-RPC requires when the request id could not be read.
func NewErrorResponse(id json.RawMessage, e *Error) *Message {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	return &Message{JSONRPC: "2.0", ID: id, Error: e}
}

func marshalParams(params any) (json.RawMessage, error) {
	switch p := params.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return p, nil
	default:
		raw, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode params: %w", err)
		}
		return raw, nil
	}
}

// envelope is the decoding form of Message. It is decoded with the JSON v2
// rules (github.com/go-json-experiment/json): duplicate member names are
// errors at any depth, and the members the gateway reads also refuse
// duplicates that differ only in case. The v1 rules (case-folded names,
// last duplicate wins) would let one message say one thing to routing,
// policy and audit and another to an upstream.
type envelope struct {
	JSONRPC string          `json:"jsonrpc,case:ignore"`
	ID      json.RawMessage `json:"id,omitempty,case:ignore"`
	Method  string          `json:"method,omitempty,case:ignore"`
	Params  json.RawMessage `json:"params,omitempty,case:ignore"`
	Result  json.RawMessage `json:"result,omitempty,case:ignore"`
	Error   *Error          `json:"error,omitempty,case:ignore"`
}

// paramsEnvelope names the params members the gateway routes on, so that a
// case-folded duplicate of one of them is refused like a top-level one.
type paramsEnvelope struct {
	Name      jsontext.Value `json:"name,case:ignore"`
	URI       jsontext.Value `json:"uri,case:ignore"`
	Arguments jsontext.Value `json:"arguments,case:ignore"`
	Meta      jsontext.Value `json:"_meta,case:ignore"`
}

// decodeError classifies a decoding failure: syntax errors are parse
// errors; well-formed JSON of the wrong shape or with duplicate members is
// an invalid request.
func decodeError(err error) *Error {
	msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "jsontext: "), "json: ")
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) && !strings.Contains(msg, "duplicate") {
		return NewError(CodeParseError, "parse error: "+msg)
	}
	return NewError(CodeInvalidRequest, "invalid request: "+msg)
}
