// Package toolguard applies ToolGuard chains to the gateway's traffic: it
// builds each hook's input envelope, runs the configured guards in order
// (stopping at a block), resolves sensitivity and fail mode per connector,
// raises actions from scores, and masks redacted text itself.
package toolguard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-mcp/gatehouse/guards/builtin/rules"
	"github.com/gatehouse-mcp/gatehouse/guards/host"
	"github.com/gatehouse-mcp/gatehouse/guards/parts"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// levels map sensitivity names to the score at which a finding blocks.
var levels = map[string]float64{"low": 0.9, "medium": 0.7, "high": 0.5, "paranoid": 0.3}

// Level returns the score at which a finding blocks at sensitivity; ok is
// false for a name that is not a sensitivity level.
func Level(sensitivity string) (threshold float64, ok bool) {
	threshold, ok = levels[sensitivity]
	return threshold, ok
}

// Fail modes: what a guard error does to the call.
const (
	FailClosed = "closed" // the call is blocked (default)
	FailOpen   = "open"   // the call passes, flagged
)

// Module is a loaded guard (guards/host.Module implements it). Call runs
// hook on input with budget as the guest's own deadline: waiting for a
// free instance is bounded separately (the host's acquisition wait), so
// a busy gateway is never mistaken for a slow guard.
type Module interface {
	CallWithin(ctx context.Context, hook string, input []byte, budget time.Duration) (guard.Verdict, error)
	Implements(hook string) bool
}

// Entry is one guard in the chain.
type Entry struct {
	Name    string
	Module  Module
	Enabled bool
	// Native, when set, is the guard's own rules compiled into the host
	// (built-in guards only; see builtin.Native). The chain runs it first:
	// a clean allow (no finding at all) skips the guest, whose verdict it
	// would equal; anything else runs the guest, which stays
	// authoritative. Uploaded guards have none and always run in WASM.
	Native func(hook string, in *guard.Input) guard.Verdict
	// NativeIn, when set, is Native reading the phase's shared view (see
	// builtin.NativeIn): the chain calls it instead of Native, with one
	// view for every guard of the phase (both chains of an answer), so
	// the built-in guards scan the input once between them.
	NativeIn func(hook string, in *guard.Input, v *rules.View) guard.Verdict
	// Hash is the module's SHA-256 (hex). A guard with Native and Hash
	// has its verdicts cached by content (see verdictCache).
	Hash string
}

// ConnectorSettings override the global settings for one connector.
type ConnectorSettings struct {
	Sensitivity string `json:"sensitivity,omitempty"`
	FailMode    string `json:"fail_mode,omitempty"`
}

// Settings are the engine's knobs, kept by the admin API.
type Settings struct {
	Sensitivity string                       `json:"sensitivity"`
	FailMode    string                       `json:"fail_mode"`
	Connectors  map[string]ConnectorSettings `json:"connectors,omitempty"`
	// CallTimeoutMS bounds one guard on one tools/call; ListTimeoutMS one
	// guard on one tool list.
	CallTimeoutMS int `json:"call_timeout_ms"`
	ListTimeoutMS int `json:"list_timeout_ms"`
}

// DefaultSettings: medium sensitivity, fail closed, 50 ms per call guard
// (a cold Go guest instance alone takes a few ms), 1 s per list guard.
func DefaultSettings() Settings {
	return Settings{Sensitivity: "medium", FailMode: FailClosed, CallTimeoutMS: 50, ListTimeoutMS: 1000}
}

// Validate checks the settings, naming the bad field.
func (s Settings) Validate() error {
	if _, ok := levels[s.Sensitivity]; !ok {
		return fmt.Errorf("sensitivity: %q is not one of low, medium, high, paranoid", s.Sensitivity)
	}
	if s.FailMode != FailClosed && s.FailMode != FailOpen {
		return fmt.Errorf("fail_mode: %q is not one of closed, open", s.FailMode)
	}
	for slug, c := range s.Connectors {
		if _, ok := levels[c.Sensitivity]; c.Sensitivity != "" && !ok {
			return fmt.Errorf("connectors.%s.sensitivity: %q is not one of low, medium, high, paranoid", slug, c.Sensitivity)
		}
		if c.FailMode != "" && c.FailMode != FailClosed && c.FailMode != FailOpen {
			return fmt.Errorf("connectors.%s.fail_mode: %q is not one of closed, open", slug, c.FailMode)
		}
	}
	if s.CallTimeoutMS <= 0 || s.ListTimeoutMS <= 0 || s.CallTimeoutMS > 60000 || s.ListTimeoutMS > 600000 {
		return fmt.Errorf("call_timeout_ms (1-60000) and list_timeout_ms (1-600000) are out of range")
	}
	return nil
}

// Verdict is one guard's verdict as applied (for the audit log).
type Verdict struct {
	Guard   string
	Action  string
	Score   float64
	Reasons []string
	Error   string
}

// Outcome is what the chain decided about one input.
type Outcome struct {
	// Action is the strongest applied action.
	Action string
	// Blocker and Reason say who blocked and why, for the client's error.
	Blocker, Reason string
	// Verdicts lists every guard that had something to say (or failed).
	Verdicts []Verdict
	// Redactions to apply to the output.
	Redactions []guard.Redaction
	// Findings keeps the reasons with their tools (tool_list).
	Findings []Finding
	// Busy says a guard could not get a free instance in time (the
	// gateway's own backlog): the answer is withheld with a "busy" error,
	// whatever the fail mode, and the guard did not judge it.
	Busy bool
}

// Finding is one reason from one guard.
type Finding struct {
	Guard string
	guard.Reason
	Action string
	Score  float64
}

// Engine runs the chains. It is safe for concurrent use; SetChain and
// SetSettings apply to the next call.
type Engine struct {
	mu       sync.RWMutex
	chain    []Entry
	settings Settings
	cache    *verdictCache
	// describe finds a tool's declared description for the request
	// envelope (nil: the request names the tool only).
	describe ToolDescriptions
}

// New returns an engine with settings and no guards.
func New(settings Settings) *Engine { return &Engine{settings: settings, cache: newVerdictCache()} }

// SetChain replaces the ordered chain.
func (e *Engine) SetChain(chain []Entry) {
	e.mu.Lock()
	e.chain = append([]Entry(nil), chain...)
	e.mu.Unlock()
}

// SetSettings replaces the settings.
func (e *Engine) SetSettings(s Settings) {
	e.mu.Lock()
	e.settings = s
	e.mu.Unlock()
}

// Settings returns the current settings.
func (e *Engine) Settings() Settings {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.settings
}

func (e *Engine) snapshot() ([]Entry, Settings) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.chain, e.settings
}

// resolve returns the connector's sensitivity and fail mode.
func resolve(s Settings, slug string) (string, float64, string) {
	level, fail := s.Sensitivity, s.FailMode
	if c, ok := s.Connectors[slug]; ok {
		if c.Sensitivity != "" {
			level = c.Sensitivity
		}
		if c.FailMode != "" {
			fail = c.FailMode
		}
	}
	return level, levels[level], fail
}

// Active reports whether any enabled guard implements hook.
func (e *Engine) Active(hook string) bool {
	chain, _ := e.snapshot()
	for _, g := range chain {
		if g.Enabled && g.Module.Implements(hook) {
			return true
		}
	}
	return false
}

// lazy is what a phase adds to its envelope only when a guest runs.
type lazy struct {
	// answer is what only an answer phase has (nil in a request's or a
	// tool list's): the guests' content, its validity and the content key
	// shared by the phase's two chains, each computed at most once. Each
	// chain puts the content into its own copy of the output before it
	// first encodes its envelope, so the chains, which may run
	// concurrently, never write what the other reads.
	answer *answerData
	// view is the rules' view shared by every guard of the phase (nil: one
	// per chain run).
	view *rules.View
	// argsValid says the input's arguments are valid for a guest's decoder
	// (decodeStrict accepted them: see withArguments).
	argsValid bool
	// outputValid says the input's output text and part paths are valid
	// UTF-8: laid out whole from an answer decodeStrict accepted.
	outputValid bool
}

// withArguments decodes args once, strictly (unless the caller did:
// decoded): when they are valid for the guests' decoder, lz says so
// (nativeSafe need not check them again) and its view gets their
// decoding (the rules need not decode them again). Otherwise nothing
// changes, and the ordinary checks apply.
func (lz lazy) withArguments(args json.RawMessage, decoded strictArgs) lazy {
	if decoded.text == "" && len(args) > 0 {
		text := string(args)
		if v, ok := decodeStrictText(text); ok {
			decoded = strictArgs{text: text, v: v}
		}
	}
	if decoded.text == "" {
		return lz
	}
	if lz.view == nil {
		lz.view = rules.NewView()
	}
	lz.view.SetArguments(decoded.text, decoded.v)
	lz.argsValid = true
	return lz
}

// run applies the chain of hook to the envelope in. The envelope is
// encoded once for all guards of the phase, and only when a guest
// actually runs (with lz.guestContent).
func (e *Engine) run(ctx context.Context, hook string, in *guard.Input, slug string, lz lazy) Outcome {
	out, _ := e.runChain(ctx, hook, in, slug, lz, false)
	return out
}

// runChain is run; with nativeOnly it stops instead at the first guard
// whose guest would have to run and reports guest (the outcome is then
// incomplete: run the phase again in full). Without a guest to run, its
// outcome is run's.
func (e *Engine) runChain(ctx context.Context, hook string, in *guard.Input, slug string, lz lazy, nativeOnly bool) (_ Outcome, guest bool) {
	chain, s := e.snapshot()
	level, threshold, fail := resolve(s, slug)
	in.V, in.Hook = guard.ABIVersion, hook
	in.Sensitivity = guard.Sensitivity{Level: level, Threshold: threshold}
	out := Outcome{Action: guard.ActionAllow}
	var data []byte
	encode := func() bool {
		if data != nil {
			return true
		}
		if lz.answer != nil && in.Output != nil {
			if c := lz.answer.guestContent(); c != nil {
				own := *in.Output
				own.Content = c
				in.Output = &own
			}
		}
		var err error
		if data, err = json.Marshal(in); err != nil {
			out.Action, out.Blocker, out.Reason = guard.ActionBlock, "gatehouse", "the call could not be encoded for the guards"
			return false
		}
		return true
	}
	timeout := time.Duration(s.CallTimeoutMS) * time.Millisecond
	if hook == guard.HookToolList {
		timeout = time.Duration(s.ListTimeoutMS) * time.Millisecond
	}
	safe := -1        // whether the native rules see what a guest would (lazy)
	small := false    // safe, and in is below cleanCacheMin (set with safe)
	var cid contentID // the cache's key for in, made on first use
	haveCID := false
	view := lz.view
	for _, g := range chain {
		if !g.Enabled || !g.Module.Implements(hook) {
			continue
		}
		native := g.Native
		if g.NativeIn != nil {
			if view == nil {
				view = rules.NewView()
			}
			native = func(h string, in *guard.Input) guard.Verdict { return g.NativeIn(h, in, view) }
		}
		var key cacheKey // set when g's verdicts are cached
		var v guard.Verdict
		hit := false
		if native != nil {
			if safe < 0 {
				safe = 0
				if nativeSafe(in, lz.argsValid, lz.outputValid) && (lz.answer == nil || lz.answer.valid()) {
					safe = 1
					small = inputSize(in) < cleanCacheMin
				}
			}
			if small && nativeClean(native, hook, in) {
				continue // cheaper to judge again than to look up
			}
			if safe == 1 && g.Hash != "" && e.cache != nil {
				if !haveCID {
					if lz.answer != nil {
						cid = lz.answer.contentID(e.cache, in)
					} else {
						cid = e.cache.id(contentKey(in))
					}
					haveCID = true
				}
				key = cacheKey{guard: g.Name, module: g.Hash, hook: hook, id: cid}
				if c, ok := e.cache.get(key); ok {
					if c.clean {
						continue
					}
					v, hit = c.v, true
				}
			}
			if !hit && safe == 1 && !small && nativeClean(native, hook, in) {
				if key.id.content.head != "" {
					e.cache.put(key, cached{clean: true})
				}
				continue
			}
		}
		var err error
		if !hit {
			if nativeOnly {
				return out, true
			}
			if !encode() {
				return out, false
			}
			v, err = g.Module.CallWithin(ctx, hook, data, timeout)
			if err == nil && key.id.content.head != "" {
				e.cache.put(key, cached{v: v})
			}
		}
		if errors.Is(err, host.ErrBusy) {
			out.Verdicts = append(out.Verdicts, Verdict{Guard: g.Name, Action: guard.ActionBlock, Error: err.Error()})
			out.Action, out.Blocker, out.Busy = guard.ActionBlock, "gatehouse", true
			out.Reason = "the guards are busy and could not judge it in time; retry"
			return out, false
		}
		if err != nil {
			action := guard.ActionBlock
			if fail == FailOpen {
				action = guard.ActionFlag
			}
			out.Verdicts = append(out.Verdicts, Verdict{Guard: g.Name, Action: action, Error: err.Error()})
			if raise(&out, action) && action == guard.ActionBlock {
				out.Blocker, out.Reason = g.Name, "the guard failed and the connector fails closed: "+err.Error()
				return out, false
			}
			continue
		}
		action := applied(v, threshold)
		if action == guard.ActionAllow && len(v.Reasons) == 0 {
			continue
		}
		rv := Verdict{Guard: g.Name, Action: action, Score: v.Score}
		for _, r := range v.Reasons {
			rv.Reasons = append(rv.Reasons, r.Code+": "+r.Message)
			out.Findings = append(out.Findings, Finding{Guard: g.Name, Reason: r, Action: action, Score: v.Score})
		}
		out.Verdicts = append(out.Verdicts, rv)
		if action == guard.ActionRedact {
			out.Redactions = append(out.Redactions, v.Redactions...)
		}
		raise(&out, action)
		if action == guard.ActionBlock {
			out.Blocker = g.Name
			out.Reason = "blocked"
			if len(v.Reasons) > 0 {
				out.Reason = v.Reasons[0].Message
			}
			return out, false
		}
	}
	return out, false
}

// raise sets out.Action to action when stronger, reporting whether it did.
func raise(out *Outcome, action string) bool {
	if guard.Rank(action) > guard.Rank(out.Action) {
		out.Action = action
		return true
	}
	return false
}

// Applied is the action the host applies to verdict v at threshold (what
// the chain does, for tools that run a guard alone).
func Applied(v guard.Verdict, threshold float64) string { return applied(v, threshold) }

// applied is the action the host applies for v at threshold: never lower
// than the guard's, raised by the score (≥ threshold: block, or redact
// when the guard gave redactions; ≥ threshold/2: flag).
func applied(v guard.Verdict, threshold float64) string {
	action := v.Action
	switch {
	case v.Score >= threshold:
		floor := guard.ActionBlock
		if v.Action == guard.ActionRedact && len(v.Redactions) > 0 {
			floor = guard.ActionRedact
		}
		if guard.Rank(floor) > guard.Rank(action) {
			action = floor
		}
	case v.Score >= threshold/2 && guard.Rank(action) < guard.Rank(guard.ActionFlag):
		action = guard.ActionFlag
	}
	if action == guard.ActionRedact && len(v.Redactions) == 0 {
		// Nothing to mask: a redaction without spans is a flag.
		action = guard.ActionFlag
	}
	return action
}

// Call is a finished call as the guards see it: a tools/call, or a
// prompts/get or resources/read (judged by the tool_call chain alone).
type Call struct {
	Connector guard.Connector
	Slug      string
	// Method is the request's ("" is tools/call).
	Method    string
	Tool      guard.ToolRef
	Arguments json.RawMessage
	// Result is the answer's result, or Error (when Result is empty) the
	// upstream's JSON-RPC error object.
	Result        json.RawMessage
	Error         json.RawMessage
	RequestID     string
	MaxInputBytes int
	// argsDecoded is Arguments' strict decoding, when the params were
	// read by readCallParams, so it is not made again.
	argsDecoded strictArgs
	// reading is the request's, shared with its pre-call phase.
	reading *Reading
}

// CheckCall runs the tool_call chain and (on a tools/call result) the
// tool_intent chain on a finished call. It returns the outcome and the
// result or error object to send: masked in place when guards redacted.
func (e *Engine) CheckCall(ctx context.Context, c Call) (Outcome, json.RawMessage) {
	limit := c.MaxInputBytes
	if limit <= 0 {
		limit = 1 << 20
	}
	method := c.Method
	if method == "" {
		method = parts.MethodToolsCall
	}
	root, raw := parts.RootResult, c.Result
	if len(c.Result) == 0 && len(c.Error) > 0 {
		root, raw = parts.RootError, c.Error
	}
	// Everything the phase keeps on the heap, in one allocation.
	ph := &answerPhase{tool: c.Tool}
	in := &ph.in
	*in = guard.Input{RequestID: c.RequestID, Method: method, Connector: c.Connector, Tool: &ph.tool, Arguments: c.Arguments}
	// One pass decodes the answer and tells whether it is valid for the
	// guests' decoder; anything else is decoded (or refused) as before.
	var ans *parts.Answer
	v, strict := decodeStrict(raw)
	if strict {
		ans = parts.ParseValue(method, root, v, limit)
	} else {
		var err error
		if ans, err = parts.Parse(method, root, raw, limit); err != nil {
			// What the guards cannot read is not relayed unread.
			return Outcome{Action: guard.ActionBlock, Blocker: "gatehouse", Reason: "the answer could not be read for the guards: " + err.Error()}, raw
		}
	}
	ph.output = ans.Output()
	in.Output, in.Truncated = &ph.output, ans.Truncated()
	// The raw content array is for guests only (the native rules read the
	// laid-out text): it is decoded once, when a guest first runs. The
	// chains share output only to read it.
	a := &ph.data
	a.raw, a.method, a.root, a.limit, a.strict = raw, method, root, limit, strict
	lz := lazy{answer: a, outputValid: strict && !ans.Truncated()}
	lz.view = c.reading.rulesView()
	lz = lz.withArguments(c.Arguments, c.argsDecoded)
	// Tool Call and Tool Intent chains run concurrently (each has its own
	// instances): the call waits for the slower, not for the sum. A block
	// from the Tool Call chain wins; the intent verdicts still join it.
	// Intent judges what a tool did against what it declares, so it reads
	// tools/call results only: an upstream's JSON-RPC error ("connection
	// to 10.0.0.5 refused") says what failed, not what the tool did.
	// Both chains first run here with their native rules and cache only:
	// most answers need no guest, and then no goroutine is started (its
	// stack growth alone was ~7 µs a call). A chain that needs a guest
	// runs again in full; two such run concurrently.
	var intent Outcome
	ph.intentIn = *in
	intentIn := &ph.intentIn
	doIntent := method == parts.MethodToolsCall && root == parts.RootResult && e.Active(guard.HookToolIntent)
	intentGuest := false
	if doIntent {
		intent, intentGuest = e.runChain(ctx, guard.HookToolIntent, intentIn, c.Slug, lz, true)
	}
	out, callGuest := e.runChain(ctx, guard.HookToolCall, in, c.Slug, lz, true)
	switch {
	case callGuest && intentGuest:
		// The goroutine captures only what this case declares: a capture
		// of c or intent would move them to the heap on every call.
		var wg sync.WaitGroup
		var concurrent Outcome
		slug := c.Slug
		wg.Add(1)
		go func() {
			defer wg.Done()
			concurrent = e.run(ctx, guard.HookToolIntent, intentIn, slug, lz)
		}()
		out = e.run(ctx, guard.HookToolCall, in, c.Slug, lz)
		wg.Wait()
		intent = concurrent
	case callGuest:
		out = e.run(ctx, guard.HookToolCall, in, c.Slug, lz)
	case intentGuest:
		intent = e.run(ctx, guard.HookToolIntent, intentIn, c.Slug, lz)
	}
	if out.Action != guard.ActionBlock {
		out.Verdicts = append(out.Verdicts, intent.Verdicts...)
		out.Findings = append(out.Findings, intent.Findings...)
		out.Redactions = append(out.Redactions, intent.Redactions...)
		if raise(&out, intent.Action) && intent.Action == guard.ActionBlock {
			out.Blocker, out.Reason, out.Busy = intent.Blocker, intent.Reason, intent.Busy
		}
	}
	if out.Action == guard.ActionRedact || len(out.Redactions) > 0 && out.Action != guard.ActionBlock {
		masked, n, err := ans.Mask(out.Redactions)
		switch {
		case err != nil:
			out.Action, out.Blocker, out.Reason = guard.ActionBlock, "gatehouse", "a redaction could not be applied: "+err.Error()
		case n > 0:
			return out, masked
		}
	}
	return out, raw
}

// answerPhase is what CheckCall keeps on the heap for its two chains:
// their inputs, the output and tool both point at, and the lazily
// computed parts they share (four allocations before).
type answerPhase struct {
	in, intentIn guard.Input
	output       guard.Output
	tool         guard.ToolRef
	data         answerData
}

// answerData is what an answer phase's chains share, each part computed
// once, when first needed, by whichever chain needs it (the two chains may
// run concurrently). One value, so that a call allocates one thing for it
// rather than a closure and a sync.Once per part.
type answerData struct {
	raw          json.RawMessage
	method, root string
	limit        int
	strict       bool // decodeStrict accepted raw

	contentOnce sync.Once
	content     json.RawMessage
	validOnce   sync.Once
	isValid     bool
	keyOnce     sync.Once
	key         contentID
}

// guestContent is the raw content array, for guests only (the native
// rules read the laid-out text); nil when the answer has none.
func (a *answerData) guestContent() json.RawMessage {
	a.contentOnce.Do(func() {
		if a.method == parts.MethodToolsCall && a.root == parts.RootResult {
			var r callResult
			if json.Unmarshal(a.raw, &r) == nil && len(r["content"]) <= a.limit {
				a.content = r["content"]
			}
		}
	})
	return a.content
}

// valid reports whether what guestContent adds is valid for the guests'
// decoder (see nativeSafe).
func (a *answerData) valid() bool {
	a.validOnce.Do(func() { a.isValid = a.strict || validRaw(a.raw) })
	return a.isValid
}

// contentID is the cache's key of in, the same for both chains: their
// inputs differ only in the hook, which the key leaves out.
func (a *answerData) contentID(c *verdictCache, in *guard.Input) contentID {
	a.keyOnce.Do(func() { a.key = c.id(contentKey(in)) })
	return a.key
}

// CheckTools runs the tool_list chain on a connector's tool definitions,
// with known (tools in view, not judged: guard.Input.Known) beside them.
func (e *Engine) CheckTools(ctx context.Context, conn guard.Connector, slug string, tools []guard.Tool, known []guard.KnownTool) Outcome {
	return e.run(ctx, guard.HookToolList, &guard.Input{Connector: conn, Tools: tools, Known: known}, slug, lazy{})
}
