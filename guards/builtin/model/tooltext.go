package model

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// maxToolText bounds the text built from one definition (the rules cap
// each string the same way).
const maxToolText = 64 << 10

// ToolText is the text the tool-poisoning model scores for one
// definition: its name, title, description, and every property name,
// description, title, enum value and default in its input schema, in a
// fixed order. Trainer and guard build it the same way.
func ToolText(name, title, description string, inputSchema json.RawMessage) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('\n')
	if title != "" {
		b.WriteString(title)
		b.WriteByte('\n')
	}
	b.WriteString(description)
	if len(inputSchema) > 0 {
		var v any
		if json.Unmarshal(inputSchema, &v) == nil {
			schemaText(&b, v, 0)
		}
	}
	s := b.String()
	if len(s) > maxToolText {
		s = s[:maxToolText]
	}
	return s
}

func schemaText(b *strings.Builder, v any, depth int) {
	if depth > 16 || b.Len() > maxToolText {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			e := t[k]
			switch k {
			case "properties":
				if props, ok := e.(map[string]any); ok {
					for _, n := range slices.Sorted(maps.Keys(props)) {
						b.WriteByte('\n')
						b.WriteString(n)
						schemaText(b, props[n], depth+1)
					}
				}
			case "description", "title", "default", "enum", "const", "examples":
				strs(b, e, depth)
			case "items", "anyOf", "oneOf", "allOf", "additionalProperties", "$defs", "definitions":
				schemaText(b, e, depth+1)
			}
		}
	case []any:
		for _, e := range t {
			schemaText(b, e, depth+1)
		}
	}
}

// strs writes every string in v.
func strs(b *strings.Builder, v any, depth int) {
	if depth > 16 {
		return
	}
	switch t := v.(type) {
	case string:
		b.WriteByte('\n')
		b.WriteString(t)
	case []any:
		for _, e := range t {
			strs(b, e, depth+1)
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			strs(b, t[k], depth+1)
		}
	}
}
