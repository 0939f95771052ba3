package rules

import (
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

const outputTextPath = "/output/text"

// wEncodedOutput is for base64/hex in an output that decodes to an
// instruction (plain encoded data in outputs is normal and not reported).
const wEncodedOutput = 0.8

// ToolCall is the Tool Call Guard: it scans a call's output — every part
// of the answer the client receives (Output.Parts) — for prompt
// injection, credentials and exfiltration URLs, and its arguments for
// credentials and, when the tool is shell-like, command injection.
func ToolCall(in *guard.Input) guard.Verdict { return toolCall(nil, nil, in) }

func toolCall(memo *Purposes, v *View, in *guard.Input) guard.Verdict {
	if in == nil {
		return guard.Allow()
	}
	fs := scanSegments(v, in.Output, scanOutputIn)
	fs = append(fs, callArguments(memo, in, v.arguments(in.Arguments))...)
	return decide(in, fs, score(fs))
}

// callArguments are the Tool Call Guard's findings in a call's argument
// strings: credentials in any of them and, when the tool is shell-like,
// command injection. The answer hook and the request hook share them.
func callArguments(memo *Purposes, in *guard.Input, args *argStrings) []finding {
	var shell bool
	if in.Tool != nil {
		shell = memo.of(in.Tool).shell
	} else {
		shell = isShellTool("", "")
	}
	var fs []finding
	for i, f := range args.fields {
		for _, m := range args.secretsAt(i) {
			fs = append(fs, finding{code: "secret:" + m.id, weight: m.weight, msg: "credential (" + m.id + ") in the call's arguments", path: f.path, span: spanOf(m.start, m.end), secret: true})
		}
		if shell {
			fs = append(fs, scanCommand(f.value, f.path)...)
			fs = append(fs, modelCommand(f.value, f.path)...)
		}
	}
	return fs
}

// scanOutput runs the output rules on one segment of output text.
func scanOutput(text string) []finding { return scanOutputIn(text, gateKeywords().scan(text)) }

// scanOutputIn is scanOutput with text's keyword scan kw already made.
func scanOutputIn(text string, kw keywordsFound) []finding {
	fs := scanPatterns(hiddenInstructionPatterns[:3], kw, text, outputTextPath, "")
	fs = append(fs, scanPatterns(outputInjectionPatterns, kw, text, outputTextPath, "")...)
	// Code in an output only matters when the output also addresses the
	// assistant; alone it is a code sample.
	if onlyCode(fs, "dangerous-code") {
		fs = nil
	}
	for _, u := range scanUnicode(text, outputTextPath, "") {
		if u.code == "homoglyph" {
			continue // mixed-script words are common in real-world output
		}
		fs = append(fs, u)
	}
	for _, e := range findEncoded(text) {
		if isInstruction(e.text) {
			fs = append(fs, finding{code: "encoded-payload", weight: wEncodedOutput, msg: e.kind + "-encoded instructions in the output", path: outputTextPath, span: spanOf(e.start, e.end)})
		}
	}
	if kw.has("http") { // case-folded: only then can text hold "http"
		fs = append(fs, scanExfilURLs(text, outputTextPath)...)
	}
	for _, m := range scanSecretsIn(text, kw) {
		fs = append(fs, finding{code: "secret:" + m.id, weight: m.weight, msg: "credential (" + m.id + ") in the tool output", path: outputTextPath, span: spanOf(m.start, m.end), secret: true, redactable: true})
	}
	return fs
}

func onlyCode(fs []finding, code string) bool {
	if len(fs) == 0 {
		return false
	}
	for _, f := range fs {
		if f.code != code {
			return false
		}
	}
	return true
}
