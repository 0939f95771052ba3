package toolguard

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// Mask is what replaces redacted text.
const Mask = "[redacted]"

// callResult is the part of a tools/call result the guards read and the
// host may rewrite; other members pass through untouched.
type callResult map[string]json.RawMessage

type contentItem struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// outputText concatenates a result's text content with newlines, as the
// guards see it in /output/text, and returns where each text item starts
// in it (-1 for items without text).
func outputText(result []byte) (text string, items []json.RawMessage, starts []int, err error) {
	var r callResult
	if err := json.Unmarshal(result, &r); err != nil {
		return "", nil, nil, fmt.Errorf("result is not a JSON object: %w", err)
	}
	if raw, ok := r["content"]; ok {
		if err := json.Unmarshal(raw, &items); err != nil {
			return "", nil, nil, fmt.Errorf("result content is not an array: %w", err)
		}
	}
	var buf []byte
	starts = make([]int, len(items))
	for i, raw := range items {
		var it contentItem
		if json.Unmarshal(raw, &it) != nil || it.Type != "text" {
			starts[i] = -1
			continue
		}
		if len(buf) > 0 {
			buf = append(buf, '\n')
		}
		starts[i] = len(buf)
		buf = append(buf, it.Text...)
	}
	return string(buf), items, starts, nil
}

// Redact masks the spans of /output/text in result's text content and
// returns the new result. structuredContent, which mirrors the text and
// cannot be masked by span, is removed when anything was masked (the
// result's _meta says so).
func Redact(result []byte, redactions []guard.Redaction) ([]byte, int, error) {
	var spans [][2]int
	for _, r := range redactions {
		if r.Path == "/output/text" && r.Span[1] > r.Span[0] {
			spans = append(spans, r.Span)
		}
	}
	if len(spans) == 0 {
		return result, 0, nil
	}
	var r callResult
	if err := json.Unmarshal(result, &r); err != nil {
		return nil, 0, err
	}
	_, items, starts, err := outputText(result)
	if err != nil {
		return nil, 0, err
	}
	masked := 0
	for i, raw := range items {
		if starts[i] < 0 {
			continue
		}
		var it map[string]json.RawMessage
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, 0, err
		}
		var text string
		_ = json.Unmarshal(it["text"], &text)
		begin, end := starts[i], starts[i]+len(text)
		// Spans relative to this item, merged, applied from the end.
		var local [][2]int
		for _, s := range spans {
			a, b := max(s[0], begin), min(s[1], end)
			if a < b {
				local = append(local, [2]int{a - begin, b - begin})
			}
		}
		if len(local) == 0 {
			continue
		}
		sort.Slice(local, func(x, y int) bool { return local[x][0] < local[y][0] })
		merged := local[:1]
		for _, s := range local[1:] {
			last := &merged[len(merged)-1]
			if s[0] <= last[1] {
				last[1] = max(last[1], s[1])
			} else {
				merged = append(merged, s)
			}
		}
		for j := len(merged) - 1; j >= 0; j-- {
			s := merged[j]
			text = text[:s[0]] + Mask + text[s[1]:]
			masked++
		}
		it["text"], _ = json.Marshal(text)
		items[i], _ = json.Marshal(it)
	}
	if masked == 0 {
		return result, 0, nil
	}
	r["content"], _ = json.Marshal(items)
	if _, ok := r["structuredContent"]; ok {
		delete(r, "structuredContent")
		meta := map[string]json.RawMessage{}
		if raw, ok := r["_meta"]; ok {
			_ = json.Unmarshal(raw, &meta)
		}
		meta["gatehouse/redacted"] = json.RawMessage(`"structuredContent removed: it held redacted data"`)
		r["_meta"], _ = json.Marshal(meta)
	}
	out, err := json.Marshal(r)
	return out, masked, err
}
