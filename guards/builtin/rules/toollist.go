package rules

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// Weights of the Tool List Guard rules that are not plain patterns.
const (
	wEncodedText        = 0.5  // base64/hex that decodes to readable text
	wEncodedInstruction = 0.9  // … and the decoded text is an instruction
	wToolShadowing      = 0.8  // changes how another tool behaves
	wToolChaining       = 0.55 // makes another tool a prerequisite/follow-up
	wPromotionalMany    = 0.5  // two or more promotional claims
	wPromotionalName    = 0.4  // best_/premium_/… name meant to win selection
	wNameHomoglyph      = 0.7  // non-ASCII letters in a tool name
	wNameCollision      = 0.6  // two tools whose names differ only in case/separators
	wNameShadowing      = 0.8  // another connector's tool name plus best_/_v2/…
	wNameTitleSnake     = 0.35 // Title_Snake_Case copy of a snake_case tool name
)

var (
	// A tool-like identifier mentioned in prose: quoted/backticked
	// snake/kebab case, or "the X tool".
	reToolRef = regexp.MustCompile("[`'\"]([A-Za-z][A-Za-z0-9]*(?:[_-][A-Za-z0-9]+)+)[`'\"]|\\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\\s+(?:tool|function)\\b|\\bthe\\s+['\"`]?([A-Za-z][\\w-]*)['\"`]?\\s+tool\\b")
	// Language that changes behaviour or sequencing, checked in the same
	// sentence as a reference to another tool.
	reShadowVerb = regexp.MustCompile(`(?i)\b(?:must|always|automatically|regardless|never|now\s+uses?|has\s+been\s+(?:optimized|updated|changed|modified|configured|deprecated|disabled)|is\s+now|by\s+default|default\s+(?:destination|value|location|parameter)|redirect(?:s|ed)?|instead|override|replac(?:e|es|ed)|sets?\s+the|change[sd]?\s+the|all\s+(?:calls|requests|uses))\b`)
	reChainVerb  = regexp.MustCompile(`(?i)\b(?:before|after|first|then|prior\s+to|followed\s+by|subsequently|also)\b[^.\n]*\b(?:call|use|invoke|run|using|calling)\b|\b(?:call|use|invoke|run)\b[^.\n]*\b(?:before|after|first|then|prior\s+to|as\s+well)\b`)
	reSentence   = regexp.MustCompile(`[^.!?\n]+[.!?\n]?`)
	// Tool names are snake_case, camelCase or kebab-case; a
	// Title_Snake_Case name is the usual shape of a look-alike copy.
	reTitleSnake = regexp.MustCompile(`^[A-Z][a-z0-9]+(?:_[A-Z][A-Za-z0-9]*)+$`)
	rePromoName  = regexp.MustCompile(`(?i)^(?:best|premium|ultimate|super|enhanced|advanced|improved|official|pro|better|smart|top|trusted|certified|verified|secure|optimi[sz]ed)[_-]|[_-](?:enhanced|advanced|premium|pro|ultimate|plus|v\d+|improved|optimi[sz]ed|official|new|secure|fixed)$`)
)

// ToolList is the Tool List Guard: it scans tool definitions (names,
// titles, descriptions and every string in the input and output schemas)
// for hidden instructions, prompt injection, Unicode tricks, encoded
// payloads and cross-tool shadowing. The verdict's score is the worst
// tool's score, so one poisoned tool is not diluted by many clean ones.
func ToolList(in *guard.Input) guard.Verdict {
	if in == nil || len(in.Tools) == 0 {
		return guard.Allow()
	}
	names := make(map[string]int, len(in.Tools)+len(in.Known))
	for _, k := range in.Known {
		names[k.Name] = -1 // in view, not judged
	}
	for i, t := range in.Tools {
		names[t.Name] = i
	}
	var all []finding
	worst := 0.0
	for i := range in.Tools {
		fs := scanTool(in.Tools, i, names)
		if s := score(fs); s > worst {
			worst = s
		}
		all = append(all, fs...)
	}
	all = append(all, nameCollisions(in.Tools)...)
	all = append(all, knownCollisions(in.Tools, in.Known)...)
	for _, code := range []string{"tool-name-collision", "tool-name-shadowing"} {
		if s := score(filterCode(all, code)); s > worst {
			worst = s
		}
	}
	return decide(in, all, worst)
}

func filterCode(fs []finding, code string) []finding {
	var out []finding
	for _, f := range fs {
		if f.code == code {
			out = append(out, f)
		}
	}
	return out
}

func scanTool(tools []guard.Tool, i int, names map[string]int) []finding {
	t := tools[i]
	base := "/tools/" + strconv.Itoa(i)
	name := capText(t.Name)
	var fs []finding
	if s, e, ok := nonASCIIName(name); ok {
		fs = append(fs, finding{code: "homoglyph", weight: wNameHomoglyph, msg: "tool name contains non-ASCII letters (impersonation)", tool: t.Name, path: base + "/name", span: spanOf(s, e)})
	}
	if m := rePromoName.FindStringIndex(name); m != nil {
		fs = append(fs, finding{code: "promotional-name", weight: wPromotionalName, msg: "tool name advertises itself over others (best_/premium_/…_enhanced)", tool: t.Name, path: base + "/name", span: spanOf(m[0], m[1])})
	}
	if reTitleSnake.MatchString(name) {
		fs = append(fs, finding{code: "name-impersonation", weight: wNameTitleSnake, msg: "Title_Snake_Case name, the usual shape of a look-alike of a snake_case tool", tool: t.Name, path: base + "/name", span: spanOf(0, len(name))})
	}
	fs = append(fs, scanUnicode(name, base+"/name", t.Name)...)

	texts := []field{{path: base + "/title", value: capText(t.Title)}, {path: base + "/description", value: capText(t.Description)}}
	texts = append(texts, walkJSON(t.InputSchema, base+"/inputSchema")...)
	texts = append(texts, walkJSON(t.OutputSchema, base+"/outputSchema")...)
	params := schemaProperties(t.InputSchema)
	for _, f := range texts {
		if f.value == "" {
			continue
		}
		fs = append(fs, scanDefinitionText(f.value, f.path, t.Name)...)
		if f.path == base+"/description" || f.path == base+"/title" {
			fs = append(fs, crossTool(f.value, f.path, t.Name, names, params)...)
		}
	}
	// The learned model last, so the rules' reasons lead the verdict.
	return append(fs, modelTool(t, base)...)
}

// scanDefinitionText runs the per-string Tool List rules.
func scanDefinitionText(text, path, tool string) []finding {
	kw := gateKeywords().scan(text)
	fs := scanPatterns(hiddenInstructionPatterns, kw, text, path, tool)
	fs = append(fs, scanPatterns(toolDescriptionPatterns, kw, text, path, tool)...)
	// Promotional claims: one is marketing, several are manipulation.
	if n, first := countPromotional(text); n >= 2 {
		for j := range fs {
			if fs[j].code == "promotional" {
				fs[j].weight = wPromotionalMany
				fs[j].msg = strconv.Itoa(n) + " promotional claims meant to bias tool selection"
				fs[j].span = first
			}
		}
	}
	fs = append(fs, scanUnicode(text, path, tool)...)
	for _, e := range findEncoded(text) {
		f := finding{code: "encoded-payload", weight: wEncodedText, msg: e.kind + "-encoded text hidden in the definition", tool: tool, path: path, span: spanOf(e.start, e.end)}
		if isInstruction(e.text) {
			f.weight = wEncodedInstruction
			f.msg = e.kind + "-encoded instructions hidden in the definition"
		}
		fs = append(fs, f)
	}
	for _, f := range scanExfilURLsIf(kw.has("http"), text, path) {
		f.tool = tool
		fs = append(fs, f)
	}
	return fs
}

var rePromoAll = toolDescriptionPatterns[len(toolDescriptionPatterns)-1].re

func countPromotional(text string) (int, *[2]int) {
	ms := rePromoAll.FindAllStringIndex(text, 8)
	if len(ms) == 0 {
		return 0, nil
	}
	return len(ms), spanOf(ms[0][0], ms[len(ms)-1][1])
}

// isInstruction reports whether decoded text reads as an instruction to
// the model or a command.
func isInstruction(s string) bool {
	for _, ps := range [][]pattern{hiddenInstructionPatterns, toolDescriptionPatterns[:4], outputInjectionPatterns[:2]} {
		for _, p := range ps {
			if p.re.MatchString(s) {
				return true
			}
		}
	}
	return reInstructionWords.MatchString(s)
}

var reInstructionWords = regexp.MustCompile(`(?i)\b(?:ignore|instructions?|system\s+prompt|assistant|you\s+must|do\s+not\s+tell|password|api[_ ]?key|secret|token|curl|wget|exfiltrate|send\s+(?:the|all|it)|/etc/passwd|\.ssh)\b`)

// crossTool finds sentences that mention another tool and change how it
// behaves (shadowing) or chain it before/after this one (dependency
// injection).
func crossTool(text, path, self string, names map[string]int, params map[string]bool) []finding {
	selfNorm := normName(self)
	var fs []finding
	var shadow, chain *[2]int
	var shadowRef, chainRef string
	for _, sm := range reSentence.FindAllStringIndex(text, 256) {
		sent := text[sm[0]:sm[1]]
		ref := otherToolRef(sent, selfNorm, names, params)
		if ref == "" {
			continue
		}
		if shadow == nil && reShadowVerb.MatchString(sent) {
			shadow, shadowRef = spanOf(sm[0], sm[1]), ref
		}
		if chain == nil && reChainVerb.MatchString(sent) {
			chain, chainRef = spanOf(sm[0], sm[1]), ref
		}
	}
	if shadow != nil {
		fs = append(fs, finding{code: "tool-shadowing", weight: wToolShadowing, msg: "description changes how another tool (" + shadowRef + ") behaves", tool: self, path: path, span: shadow})
	}
	if chain != nil {
		fs = append(fs, finding{code: "tool-chaining", weight: wToolChaining, msg: "description makes calling another tool (" + chainRef + ") a prerequisite or follow-up", tool: self, path: path, span: chain})
	}
	return fs
}

// otherToolRef returns the first tool reference in sent that is not the
// tool itself nor one of its parameters.
func otherToolRef(sent, selfNorm string, names map[string]int, params map[string]bool) string {
	for _, m := range reToolRef.FindAllStringSubmatch(sent, 8) {
		ref := m[1] + m[2] + m[3]
		if ref == "" || params[ref] || normName(ref) == selfNorm {
			continue
		}
		if m[3] != "" && !strings.ContainsAny(ref, "_-") {
			if _, known := names[ref]; !known {
				continue // "the search tool": prose, not a tool name
			}
		}
		return ref
	}
	if len(names) > 1 {
		// Another tool's name written in the sentence: look the sentence's
		// identifier-like words up in the name set (linear in the text; a
		// scan of every name per sentence made 1 000 tools quadratic).
		for _, w := range identWords(sent) {
			if _, known := names[w]; known && len(w) >= 4 && normName(w) != selfNorm && strings.ContainsAny(w, "_-") {
				return w
			}
		}
	}
	return ""
}

func normName(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("_", "", "-", "", ".", "", " ", "").Replace(s)
}

// schemaProperties returns the parameter names declared by an input schema
// (top-level and nested), so references to them are not read as tools.
func schemaProperties(raw json.RawMessage) map[string]bool {
	out := map[string]bool{}
	if len(raw) == 0 {
		return out
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return out
	}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > maxDepth || len(out) > maxStrings {
			return
		}
		switch t := v.(type) {
		case map[string]any:
			if props, ok := t["properties"].(map[string]any); ok {
				for k := range props {
					out[k] = true
				}
			}
			for _, e := range t {
				walk(e, depth+1)
			}
		case []any:
			for _, e := range t {
				walk(e, depth+1)
			}
		}
	}
	walk(v, 0)
	return out
}

// nameCollisions flags tools whose names differ only in case or
// separators: a look-alike that competes with (or overrides) the original.
func nameCollisions(tools []guard.Tool) []finding {
	seen := map[string]int{}
	var fs []finding
	for i, t := range tools {
		k := normName(t.Name)
		if k == "" {
			continue
		}
		if j, ok := seen[k]; ok && tools[j].Name != t.Name {
			fs = append(fs, finding{code: "tool-name-collision", weight: wNameCollision, msg: "tool name " + strconv.Quote(t.Name) + " imitates " + strconv.Quote(tools[j].Name), tool: t.Name, path: "/tools/" + strconv.Itoa(i) + "/name", span: spanOf(0, len(t.Name))})
			continue
		}
		seen[k] = i
	}
	return fs
}

// knownCollisions judges tools against the tools already in view: a name
// that differs from a known one only in case or separators imitates it
// (same connector or another); a name that is another connector's tool
// plus a ranking word (best_, _v2, _enhanced: rePromoName) is made to be
// picked over it. The same name on two connectors is not flagged: two
// instances of one server are common.
func knownCollisions(tools []guard.Tool, known []guard.KnownTool) []finding {
	if len(known) == 0 {
		return nil
	}
	byNorm := make(map[string]guard.KnownTool, len(known))
	for _, k := range known {
		byNorm[normName(k.Name)] = k
	}
	var fs []finding
	for i, t := range tools {
		path := "/tools/" + strconv.Itoa(i) + "/name"
		if k, ok := byNorm[normName(t.Name)]; ok && k.Name != t.Name && normName(t.Name) != "" {
			fs = append(fs, finding{code: "tool-name-collision", weight: wNameCollision, msg: "tool name " + strconv.Quote(t.Name) + " imitates " + strconv.Quote(k.Name) + " of connector " + strconv.Quote(k.Connector), tool: t.Name, path: path, span: spanOf(0, len(t.Name))})
			continue
		}
		bare := rePromoName.ReplaceAllString(t.Name, "")
		if bare == t.Name || bare == "" {
			continue
		}
		if k, ok := byNorm[normName(bare)]; ok {
			fs = append(fs, finding{code: "tool-name-shadowing", weight: wNameShadowing, msg: "tool name " + strconv.Quote(t.Name) + " is " + strconv.Quote(k.Name) + " of connector " + strconv.Quote(k.Connector) + " made to look better, so that it is picked instead", tool: t.Name, path: path, span: spanOf(0, len(t.Name))})
		}
	}
	return fs
}

// identWords returns the maximal runs of [A-Za-z0-9_-] in s, in order.
func identWords(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		ident := i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9' || s[i] == '_' || s[i] == '-')
		switch {
		case ident && start < 0:
			start = i
		case !ident && start >= 0:
			out = append(out, s[start:i])
			start = -1
		}
	}
	return out
}
