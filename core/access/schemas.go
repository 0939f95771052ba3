package access

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Tool input schemas are validated with santhosh-tekuri/jsonschema: a
// maintained validator passing the official JSON-Schema test suite for
// drafts 4 to 2020-12, with embedded meta-schemas and no network loader
// (a $ref to a remote document fails to compile rather than fetch).

// maxSchemaBytes bounds the input schemas the gateway compiles; a tool
// with a larger one is passed unvalidated (and logged).
const maxSchemaBytes = 256 << 10

// Schemas caches the compiled input schemas of connectors' tools, learnt
// from the tools/list answers that pass through the gateway. It is safe
// for concurrent use.
type Schemas struct {
	printer *message.Printer // renders validation errors in English

	mu     sync.RWMutex
	byConn map[string]map[string]*toolSchema // connector id → tool name →
}

type toolSchema struct {
	raw    []byte
	schema *jsonschema.Schema
	err    error // the schema did not compile
}

// NewSchemas returns an empty cache.
func NewSchemas() *Schemas {
	return &Schemas{printer: message.NewPrinter(language.English), byConn: map[string]map[string]*toolSchema{}}
}

// ErrNoSchema means the tool's input schema is not known (yet).
var ErrNoSchema = errors.New("input schema not known")

// InvalidArguments is a call's arguments failing its tool's schema.
type InvalidArguments struct {
	Tool string
	// Location is the JSON pointer of the first offending value ("" for
	// the arguments object itself).
	Location string
	Message  string
}

func (e *InvalidArguments) Error() string {
	where := "arguments"
	if e.Location != "" {
		where = "argument " + e.Location
	}
	return fmt.Sprintf("invalid arguments for tool %q: %s: %s", e.Tool, where, e.Message)
}

// Learn records the input schemas in a tools/list result (one page).
// Unchanged schemas are not recompiled.
func (s *Schemas) Learn(connectorID string, result json.RawMessage) {
	var page struct {
		Tools []struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		} `json:"tools"`
	}
	if json.Unmarshal(result, &page) != nil || len(page.Tools) == 0 {
		return
	}
	s.mu.RLock()
	known := s.byConn[connectorID]
	var todo []int
	for i, t := range page.Tools {
		if t.Name == "" || len(t.InputSchema) == 0 {
			continue
		}
		if ts := known[t.Name]; ts == nil || !bytes.Equal(ts.raw, t.InputSchema) {
			todo = append(todo, i)
		}
	}
	s.mu.RUnlock()
	if len(todo) == 0 {
		return
	}
	compiled := make(map[string]*toolSchema, len(todo))
	for _, i := range todo {
		t := page.Tools[i]
		compiled[t.Name] = compile(t.Name, t.InputSchema)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.byConn[connectorID]
	if m == nil {
		m = map[string]*toolSchema{}
		s.byConn[connectorID] = m
	}
	for name, ts := range compiled {
		m[name] = ts
	}
}

// Forget drops a connector's schemas (it changed or was deleted).
func (s *Schemas) Forget(connectorID string) {
	s.mu.Lock()
	delete(s.byConn, connectorID)
	s.mu.Unlock()
}

func compile(tool string, raw json.RawMessage) *toolSchema {
	ts := &toolSchema{raw: bytes.Clone(raw)}
	if len(raw) > maxSchemaBytes {
		ts.err = fmt.Errorf("input schema of %q is %d bytes, over the %d-byte limit", tool, len(raw), maxSchemaBytes)
		return ts
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		ts.err = fmt.Errorf("input schema of %q: %w", tool, err)
		return ts
	}
	c := jsonschema.NewCompiler()
	// MCP: an inputSchema without $schema is JSON Schema 2020-12.
	c.DefaultDraft(jsonschema.Draft2020)
	const loc = "gatehouse:tool-input-schema.json"
	if err := c.AddResource(loc, doc); err != nil {
		ts.err = fmt.Errorf("input schema of %q: %w", tool, err)
		return ts
	}
	if ts.schema, err = c.Compile(loc); err != nil {
		ts.err = fmt.Errorf("input schema of %q does not compile: %w", tool, err)
	}
	return ts
}

func (s *Schemas) known(connectorID, tool string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byConn[connectorID][tool] != nil
}

// Validate checks a call's arguments, decoded by encoding/json (nil: an
// empty object), against tool's schema. It returns ErrNoSchema when the
// schema is not known, the compile error of a schema that does not
// compile, or an *InvalidArguments.
func (s *Schemas) Validate(connectorID, tool string, args map[string]any) error {
	s.mu.RLock()
	ts := s.byConn[connectorID][tool]
	s.mu.RUnlock()
	if ts == nil {
		return ErrNoSchema
	}
	if ts.err != nil {
		return ts.err
	}
	var inst any = args
	if args == nil {
		inst = map[string]any{}
	}
	err := ts.schema.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &InvalidArguments{Tool: tool, Message: err.Error()}
	}
	leaf := firstLeaf(ve)
	loc := ""
	if len(leaf.InstanceLocation) > 0 {
		loc = "/" + strings.Join(leaf.InstanceLocation, "/")
	}
	return &InvalidArguments{Tool: tool, Location: loc, Message: leaf.ErrorKind.LocalizedString(s.printer)}
}

// firstLeaf is the first innermost cause: the most specific complaint.
func firstLeaf(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	return ve
}
