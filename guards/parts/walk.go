package parts

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// walker collects an answer's strings in a stable order (members by name):
// first holds what leads Text (a tools/call result's text items, an
// error's message), rest every other string. path is the JSON Pointer of
// the value being walked, grown and cut back as the walk descends and
// returns: a pointer is made into a string only for a string found (one
// allocation a part, not one a member and element passed on the way).
type walker struct {
	first, rest []found
	path        []byte
	pathBuf     [128]byte // path's first backing array
}

// loc is where a value sits in the decoded answer.
type loc struct {
	obj  map[string]any
	name string
	arr  []any
	idx  int
}

// begin starts the walk at root (RootResult or RootError).
func (w *walker) begin(root string) { w.path = append(w.pathBuf[:0], root...) }

// member descends to member name of the current value and returns the
// length to go back to (end).
func (w *walker) member(name string) int {
	n := len(w.path)
	w.path = appendEscaped(append(w.path, '/'), name)
	return n
}

// element descends to element i of the current value (see member).
func (w *walker) element(i int) int {
	n := len(w.path)
	w.path = strconv.AppendInt(append(w.path, '/'), int64(i), 10)
	return n
}

// end returns to the value whose path had length n.
func (w *walker) end(n int) { w.path = w.path[:n] }

func (w *walker) str(s string, at loc, first bool) {
	f := found{path: string(w.path), text: s, obj: at.obj, name: at.name, arr: at.arr, idx: at.idx}
	if first {
		w.first = append(w.first, f)
	} else {
		w.rest = append(w.rest, f)
	}
}

// object walks obj's members in name order. A member name MCP does not
// define was chosen by the upstream and is text the client receives, so
// it is a part itself; each value goes to visit, with the walk at it.
func (w *walker) object(obj map[string]any, visit func(name string, v any)) {
	var small [8]string // most objects' names fit: no allocation for them
	for _, k := range SortedNames(small[:0], obj) {
		n := w.member(k)
		if !protocolName(k) {
			w.rest = append(w.rest, found{path: string(w.path), text: k, key: true})
		}
		visit(k, obj[k])
		w.end(n)
	}
}

// elements walks arr's elements in order, each with visit.
func (w *walker) elements(arr []any, visit func(i int, v any)) {
	for i, e := range arr {
		n := w.element(i)
		visit(i, e)
		w.end(n)
	}
}

// generic walks JSON of no known shape: every string is a part.
func (w *walker) generic(v any, at loc) {
	switch t := v.(type) {
	case string:
		w.str(t, at, false)
	case map[string]any:
		w.object(t, func(k string, v any) { w.generic(v, loc{obj: t, name: k}) })
	case []any:
		w.elements(t, func(i int, e any) { w.generic(e, loc{arr: t, idx: i}) })
	}
}

// result walks a method's result. Only protocol strings that carry no
// text are left out: the 2026-07-28 resultType and requestState (opaque,
// and returned to the upstream verbatim, so never masked).
func (w *walker) result(method string, v any) {
	obj, ok := v.(map[string]any)
	if !ok {
		w.generic(v, loc{})
		return
	}
	w.object(obj, func(k string, val any) {
		at := loc{obj: obj, name: k}
		switch {
		case k == "resultType" || k == "requestState":
			if _, ok := val.(string); ok {
				return
			}
		case method == MethodToolsCall && k == "content":
			w.blocks(val, at, true)
			return
		case method == MethodPromptsGet && k == "messages":
			w.messages(val, at)
			return
		case method == MethodResourcesRead && k == "contents":
			if arr, ok := val.([]any); ok {
				w.elements(arr, func(i int, e any) { w.resource(e, loc{arr: arr, idx: i}) })
				return
			}
		}
		w.generic(val, at)
	})
}

// blocks walks a content array (or a single block); first marks a
// tools/call result's, whose text items lead Text.
func (w *walker) blocks(v any, at loc, first bool) {
	arr, ok := v.([]any)
	if !ok {
		w.block(v, at, first)
		return
	}
	w.elements(arr, func(i int, e any) { w.block(e, loc{arr: arr, idx: i}, first) })
}

// block walks one content block: its text, an embedded resource, a
// resource link's name, title, description and URI, annotations and
// _meta. Left out: the type when it is one MCP defines, and base64 image
// and audio data.
func (w *walker) block(v any, at loc, first bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		w.generic(v, at)
		return
	}
	typ, _ := obj["type"].(string)
	w.object(obj, func(k string, val any) {
		at := loc{obj: obj, name: k}
		s, isString := val.(string)
		switch {
		case k == "type" && isString && blockType(s):
			return
		case k == "text" && isString && typ == "text":
			w.str(s, at, first)
			return
		case k == "data" && isString && (typ == "image" || typ == "audio"):
			return
		case k == "resource" && typ == "resource":
			w.resource(val, at)
			return
		}
		w.generic(val, at)
	})
}

// resource walks resource contents (embedded, or read): every string but
// a base64 blob.
func (w *walker) resource(v any, at loc) {
	obj, ok := v.(map[string]any)
	if !ok {
		w.generic(v, at)
		return
	}
	w.object(obj, func(k string, val any) {
		if _, ok := val.(string); ok && k == "blob" {
			return
		}
		w.generic(val, loc{obj: obj, name: k})
	})
}

// messages walks a prompts/get result's messages.
func (w *walker) messages(v any, at loc) {
	arr, ok := v.([]any)
	if !ok {
		w.generic(v, at)
		return
	}
	w.elements(arr, func(i int, e any) {
		m, ok := e.(map[string]any)
		if !ok {
			w.generic(e, loc{arr: arr, idx: i})
			return
		}
		w.object(m, func(k string, val any) {
			at := loc{obj: m, name: k}
			switch s, _ := val.(string); {
			case k == "role" && (s == "user" || s == "assistant"):
				return
			case k == "content":
				w.blocks(val, at, false)
				return
			}
			w.generic(val, at)
		})
	})
}

// errorObject walks a JSON-RPC error: its message leads Text, then data
// and anything else it carries.
func (w *walker) errorObject(v any) {
	obj, ok := v.(map[string]any)
	if !ok {
		w.generic(v, loc{})
		return
	}
	w.object(obj, func(k string, val any) {
		if s, ok := val.(string); ok && k == "message" {
			w.str(s, loc{obj: obj, name: k}, true)
			return
		}
		w.generic(val, loc{obj: obj, name: k})
	})
}

// blockType reports whether t is a content block type MCP defines.
func blockType(t string) bool {
	switch t {
	case "text", "image", "audio", "resource", "resource_link":
		return true
	}
	return false
}

// protocolName reports whether k is a member name MCP defines in results
// and errors (such a name carries no upstream text).
func protocolName(k string) bool {
	switch k {
	case "content", "structuredContent", "isError", "_meta", "type", "text", "data", "blob",
		"resource", "uri", "mimeType", "name", "title", "description", "size",
		"annotations", "audience", "priority", "lastModified", "icons", "src", "sizes", "theme",
		"messages", "role", "contents", "code", "message",
		"resultType", "inputRequests", "requestState", "method", "params", "arguments", "nextCursor":
		return true
	}
	return false
}

// Shape is path with every member name the upstream chose replaced by
// "*" ("/result/structuredContent/*/0"): where a part is, without its
// text, which may be what a guard found (a member name can be a secret).
// It is what messages shown to clients and admins may name.
func Shape(path string) string {
	tokens := strings.Split(path, "/")
	for i, tok := range tokens {
		if i == 0 || tok == "" || protocolName(tok) || i == 1 && (tok == "result" || tok == "error") {
			continue
		}
		if _, err := strconv.Atoi(tok); err == nil && len(tok) < 10 {
			continue
		}
		tokens[i] = "*"
	}
	return strings.Join(tokens, "/")
}

// SortedNames appends obj's member names to dst in sorted order and
// returns the result. A caller passing a stack buffer's [:0] walks a small
// object's names without allocating.
func SortedNames(dst []string, obj map[string]any) []string {
	dst = slices.AppendSeq(dst, maps.Keys(obj))
	slices.Sort(dst)
	return dst
}
