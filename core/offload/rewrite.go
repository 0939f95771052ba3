package offload

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Call is the tools/call whose result Rewrite looks at.
type Call struct {
	User, Connector, Tool string
	// Threshold overrides Config.Threshold when positive (the
	// connector's advanced.offload_threshold_bytes).
	Threshold int
	// KeepStructured leaves structuredContent in place: the tool
	// declares an outputSchema (a link would not validate against it),
	// or its definition is not known.
	KeepStructured bool
}

// Outcome says what Rewrite did, for the audit record.
type Outcome struct {
	// Stored are the outputs stored (the result links to them).
	Stored []Stored
	// Refused is the quota's refusal (a *QuotaError): the result became
	// a tool error saying so, with the text previews.
	Refused error
	// Failed is a store failure: the result was relayed unchanged.
	Failed error
}

// part is one piece of a result that may be offloaded.
type part struct {
	index    int // in content; -1: structuredContent
	kind     string
	mimeType string
	text     bool
	size     int
	payload  func() ([]byte, error)
	// value is a text block's text, decoded once (for its preview).
	value string
}

// Rewrite offloads the large parts of a tools/call result when the
// result's output (its text, decoded binary and structured content
// together) is above the threshold: every text, image, audio or embedded
// resource block larger than the preview, and structuredContent unless
// it must be kept. A result at or below the threshold, or one that is not
// a result with content, comes back as it is (the same bytes).
func (o *Offloader) Rewrite(ctx context.Context, c Call, result json.RawMessage) (json.RawMessage, Outcome) {
	threshold := o.cfg.Threshold
	if c.Threshold > 0 {
		threshold = c.Threshold
	}
	// Every part's size (decoded text, decoded binary, structuredContent)
	// is at most the bytes it spans in result: a result no longer than
	// the threshold cannot exceed it, and is not decoded (most calls).
	if len(result) <= threshold {
		return result, Outcome{}
	}
	var res map[string]json.RawMessage
	if json.Unmarshal(result, &res) != nil || res == nil {
		return result, Outcome{}
	}
	var content []map[string]json.RawMessage
	if raw, ok := res["content"]; ok {
		if json.Unmarshal(raw, &content) != nil {
			return result, Outcome{}
		}
	}
	parts, total := partsOf(content, res["structuredContent"], c.KeepStructured)
	if total <= threshold {
		return result, Outcome{}
	}
	var out Outcome
	links := map[int]Stored{} // by part index
	o.Sweep(ctx)              // expired outputs give their quota back first
	need := int64(0)
	for _, p := range parts {
		if o.offloads(p, c) {
			need += int64(p.size)
		}
	}
	firstErr := o.fits(c.User, need) // the whole result's, before any is stored
	for _, p := range parts {
		if firstErr != nil || !o.offloads(p, c) {
			continue
		}
		data, err := p.payload()
		if err != nil {
			continue // not what it claims to be (bad base64): left inline
		}
		st, err := o.Put(ctx, Item{User: c.User, Connector: c.Connector, Tool: c.Tool, MimeType: p.mimeType, Text: p.text, Data: data})
		if err != nil {
			firstErr = err
			break
		}
		links[p.index] = st
		out.Stored = append(out.Stored, st)
	}
	if firstErr != nil {
		for _, st := range out.Stored {
			o.Drop(context.WithoutCancel(ctx), st.ID)
		}
		out.Stored = nil
		var quota *QuotaError
		if errors.As(firstErr, &quota) {
			out.Refused = firstErr
			return o.refusal(content, res, quota), out
		}
		out.Failed = firstErr
		return result, out
	}
	if len(links) == 0 {
		return result, out
	}
	newContent := make([]any, 0, len(content)+len(links))
	for i, b := range content {
		st, ok := links[i]
		if !ok {
			newContent = append(newContent, b)
			continue
		}
		p := partAt(parts, i)
		if p.kind == "text" {
			newContent = append(newContent, o.previewBlock(b, p.value, st))
		}
		newContent = append(newContent, o.link(c, p, st, b))
	}
	if st, ok := links[-1]; ok {
		p := partAt(parts, -1)
		res["structuredContent"], _ = json.Marshal(map[string]any{"offloaded": map[string]any{
			"uri": st.URI, "size": st.Size, "mimeType": p.mimeType, "expires": st.Expires.UTC().Format(time.RFC3339)}})
		newContent = append(newContent, o.link(c, p, st, nil))
	}
	res["content"], _ = json.Marshal(newContent)
	rewritten, err := json.Marshal(res)
	if err != nil { // cannot happen: the values came from JSON
		return result, Outcome{Failed: err}
	}
	return rewritten, out
}

// offloads reports whether part p of call c's result is stored.
func (o *Offloader) offloads(p part, c Call) bool {
	return p.size > o.cfg.Preview && (p.index >= 0 || !c.KeepStructured)
}

func partAt(parts []part, index int) part {
	for _, p := range parts {
		if p.index == index {
			return p
		}
	}
	return part{}
}

// partsOf lists the result's parts and their output size in all
// (structuredContent counts unless it is kept).
func partsOf(content []map[string]json.RawMessage, structured json.RawMessage, keep bool) ([]part, int) {
	var parts []part
	total := 0
	for i, b := range content {
		var kind string
		_ = json.Unmarshal(b["type"], &kind)
		p := part{index: i, kind: kind}
		switch kind {
		case "text":
			var text string
			if json.Unmarshal(b["text"], &text) != nil {
				continue
			}
			p.mimeType, p.text, p.size, p.value = "text/plain", true, len(text), text
			p.payload = func() ([]byte, error) { return []byte(text), nil }
		case "image", "audio":
			var data string
			if json.Unmarshal(b["data"], &data) != nil {
				continue
			}
			_ = json.Unmarshal(b["mimeType"], &p.mimeType)
			p.size = base64.StdEncoding.DecodedLen(len(data))
			p.payload = func() ([]byte, error) { return base64.StdEncoding.DecodeString(data) }
		case "resource":
			var r struct {
				MimeType string  `json:"mimeType"`
				Text     *string `json:"text"`
				Blob     *string `json:"blob"`
			}
			if json.Unmarshal(b["resource"], &r) != nil {
				continue
			}
			p.mimeType = r.MimeType
			switch {
			case r.Text != nil:
				p.text, p.size = true, len(*r.Text)
				p.payload = func() ([]byte, error) { return []byte(*r.Text), nil }
			case r.Blob != nil:
				p.size = base64.StdEncoding.DecodedLen(len(*r.Blob))
				p.payload = func() ([]byte, error) { return base64.StdEncoding.DecodeString(*r.Blob) }
			default:
				continue
			}
		default:
			continue // resource_link and unknown kinds have no payload here
		}
		parts = append(parts, p)
		total += p.size
	}
	if len(structured) > 0 && string(structured) != "null" {
		p := part{index: -1, kind: "structured", mimeType: "application/json", text: true, size: len(structured)}
		p.payload = func() ([]byte, error) { return structured, nil }
		parts = append(parts, p)
		if !keep {
			total += p.size
		}
	}
	return parts, total
}

// previewBlock is text block b (its text decoded) cut to the preview, with a note saying
// where the rest is.
func (o *Offloader) previewBlock(b map[string]json.RawMessage, text string, st Stored) map[string]json.RawMessage {
	preview := cut(text, o.cfg.Preview)
	note := fmt.Sprintf("\n\n[Gatehouse stored this output (%d bytes; the first %d above) until %s. Read it with resources/read %s, or in ranges with %s?offset=N&length=M.]",
		st.Size, len(preview), st.Expires.UTC().Format(time.RFC3339), st.URI, st.URI)
	out := make(map[string]json.RawMessage, len(b))
	for k, v := range b {
		out[k] = v
	}
	out["text"], _ = json.Marshal(preview + note)
	return out
}

// link is the resource_link to st, which holds part p (from block b).
func (o *Offloader) link(c Call, p part, st Stored, b map[string]json.RawMessage) map[string]any {
	name := c.Tool + " output"
	if p.index >= 0 {
		name += " " + strconv.Itoa(p.index+1) + " (" + p.kind + ")"
	} else {
		name += " (structuredContent)"
	}
	l := map[string]any{
		"type": "resource_link", "uri": st.URI, "name": name, "size": st.Size,
		"description": "The full output, stored by Gatehouse until " + st.Expires.UTC().Format(time.RFC3339) + "; ranges: " + st.URI + "?offset=N&length=M (bytes)",
	}
	if p.mimeType != "" {
		l["mimeType"] = p.mimeType
	}
	if b != nil {
		if a, ok := b["annotations"]; ok && p.kind != "text" {
			l["annotations"] = a // the preview block keeps a text's own
		}
		if p.kind == "resource" {
			var r struct {
				URI string `json:"uri"`
			}
			_ = json.Unmarshal(b["resource"], &r)
			l["title"] = "Embedded resource " + r.URI
		}
	}
	return l
}

// refusal is the result a quota refusal gives: a tool error saying so,
// with the previews of the text blocks.
func (o *Offloader) refusal(content []map[string]json.RawMessage, res map[string]json.RawMessage, quota *QuotaError) json.RawMessage {
	blocks := []any{map[string]any{"type": "text", "text": "Gatehouse did not relay this tool's output: it is too large to return inline and could not be stored for reading back, because " + quota.Error() + "."}}
	for _, b := range content {
		var kind, text string
		_ = json.Unmarshal(b["type"], &kind)
		if kind != "text" || json.Unmarshal(b["text"], &text) != nil {
			continue
		}
		if p := cut(text, o.cfg.Preview); len(p) < len(text) {
			blocks = append(blocks, map[string]any{"type": "text", "text": p + "\n[… preview only]"})
		} else {
			blocks = append(blocks, b)
		}
	}
	out := map[string]any{"content": blocks, "isError": true}
	if m, ok := res["_meta"]; ok {
		out["_meta"] = m
	}
	if rt, ok := res["resultType"]; ok {
		out["resultType"] = rt
	}
	raw, _ := json.Marshal(out)
	return raw
}

// cut is at most n bytes of s, ending on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !runeStart(s[n]) {
		n--
	}
	return s[:n]
}
