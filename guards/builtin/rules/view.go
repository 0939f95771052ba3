package rules

import (
	"encoding/json"
	"slices"
	"sync"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// View is what the built-in rules read from one input before any rule
// runs — the output's segments with their keyword scans, the arguments'
// strings with theirs — computed once and shared by every built-in guard
// of a phase (the Tool Call and Tool Intent guards read the same output
// and arguments). A View only caches: each piece is kept with the text or
// JSON it was computed from and recomputed when a guard's input differs,
// so a shared View never changes a verdict (TestViewSharedEqualsAlone).
//
// A View is safe for concurrent use. A nil *View shares nothing.
type View struct {
	mu      sync.Mutex
	out     *outputView
	args    *argsView
	decoded argsDecoded // set when its raw is not ""
}

// NewView returns an empty view, for one phase.
func NewView() *View { return &View{} }

type outputView struct {
	text  string
	parts []guard.Part
	segs  []scannedSegment
	// The first parts and segments live in the view itself: an answer
	// has one or two (one allocation a phase instead of three).
	partsFew [2]guard.Part
	segsFew  [1]scannedSegment
}

// scannedSegment is a segment with its keyword scan.
type scannedSegment struct {
	segment
	kw keywordsFound
}

// argsDecoded is what SetArguments handed the view.
type argsDecoded struct {
	raw string
	v   any
}

type argsView struct {
	raw string
	argStrings
	// The first fields' scans live in the view itself (most calls have
	// one or two arguments): one allocation instead of three.
	kwsFew     [2]keywordsFound
	secretsFew [2][]secretMatch
}

// argStrings are the strings of a call's arguments (walkJSONAll), each
// with its keyword scan and, when shared, its credential matches.
type argStrings struct {
	fields []field
	kws    []keywordsFound // by index in fields
	// secrets are scanSecretsIn of each field, made once for every guard
	// of a view (nil without a view: each guard scans for itself).
	secrets [][]secretMatch
	all     bool
}

// secretsAt is scanSecretsIn of field i.
func (a *argStrings) secretsAt(i int) []secretMatch {
	if a.secrets != nil {
		return a.secrets[i]
	}
	return scanSecretsIn(a.fields[i].value, a.kws[i])
}

// segments is outputSegments(out), each with its keyword scan.
func (v *View) segments(out *guard.Output) []scannedSegment {
	if out == nil || out.Text == "" {
		return nil
	}
	if v != nil {
		v.mu.Lock()
		defer v.mu.Unlock()
		if o := v.out; o != nil && o.text == out.Text && slices.Equal(o.parts, out.Parts) {
			return o.segs
		}
	}
	m := gateKeywords()
	var segs []scannedSegment
	var o *outputView
	if v != nil {
		o = &outputView{text: out.Text}
		o.parts = append(o.partsFew[:0], out.Parts...)
		segs = o.segsFew[:0]
	}
	for _, s := range outputSegments(out) {
		segs = append(segs, scannedSegment{segment: s, kw: m.scan(s.text)})
	}
	if o != nil {
		o.segs = segs
		v.out = o
	}
	return segs
}

// arguments is walkJSONAll(raw, "/arguments"), each string with its
// keyword scan.
func (v *View) arguments(raw json.RawMessage) *argStrings {
	if v != nil {
		v.mu.Lock()
		defer v.mu.Unlock()
		if a := v.args; a != nil && a.raw == string(raw) {
			return &a.argStrings
		}
	}
	a := new(argStrings)
	var view *argsView
	if v != nil {
		view = new(argsView)
		a = &view.argStrings
	}
	var rawText string // raw as a string, shared with the decoding's when there is one
	if d := v.decodedArgs(); d != nil && d.raw == string(raw) {
		a.fields, a.all = walkDecodedAll(raw, d.v, "/arguments")
		rawText = d.raw
	} else {
		a.fields, a.all = walkJSONAll(raw, "/arguments")
	}
	m := gateKeywords()
	switch n := len(a.fields); {
	case view != nil && n <= len(view.kwsFew):
		a.kws, a.secrets = view.kwsFew[:n], view.secretsFew[:n]
	case view != nil:
		a.kws, a.secrets = make([]keywordsFound, n), make([][]secretMatch, n)
	default:
		a.kws = make([]keywordsFound, n)
	}
	for i, f := range a.fields {
		a.kws[i] = m.scan(f.value)
	}
	if view == nil {
		return a
	}
	for i, f := range a.fields {
		a.secrets[i] = scanSecretsIn(f.value, a.kws[i])
	}
	if rawText == "" {
		rawText = string(raw)
	}
	view.raw = rawText
	v.args = view
	return a
}

// SetArguments tells the view that raw, a call's arguments as JSON text,
// decodes to value (strings, maps and slices as encoding/json decodes
// them; numbers of any type, the rules skip them), so the rules walk
// value instead of decoding raw again: a host that has decoded the
// arguments already (to check them) hands its decoding over. A value
// that is not raw's decoding changes what the rules read: hand over
// exact decodings only. raw is a string so that the host's own immutable
// copy (the one value's strings slice) is kept, not copied again.
func (v *View) SetArguments(raw string, value any) {
	if v == nil || raw == "" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.decoded.raw == raw {
		return // the same arguments' exact decoding is held (a call's phases share a view)
	}
	v.decoded = argsDecoded{raw: raw, v: value}
}

// decodedArgs is what SetArguments gave (v is locked or nil).
func (v *View) decodedArgs() *argsDecoded {
	if v == nil || v.decoded.raw == "" {
		return nil
	}
	return &v.decoded
}

// ToolCallIn is the Tool Call Guard reading the shared view v.
func (p *Purposes) ToolCallIn(v *View, in *guard.Input) guard.Verdict { return toolCall(p, v, in) }

// ToolIntentIn is the Tool Intent Guard reading the shared view v.
func (p *Purposes) ToolIntentIn(v *View, in *guard.Input) guard.Verdict {
	return toolIntent(p, v, in)
}

// ToolCallRequestIn is the Tool Call Guard's pre-call hook reading the
// shared view v.
func (p *Purposes) ToolCallRequestIn(v *View, in *guard.Input) guard.Verdict {
	return toolCallRequest(p, v, in)
}

// ToolIntentRequestIn is the Tool Intent Guard's pre-call hook reading the
// shared view v.
func (p *Purposes) ToolIntentRequestIn(v *View, in *guard.Input) guard.Verdict {
	return toolIntentRequest(p, v, in)
}
