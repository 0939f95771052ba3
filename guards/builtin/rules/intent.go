package rules

import (
	"regexp"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// Weights of the Tool Intent Guard rules.
const (
	wIntentSecretReadOnly = 0.85 // a credential sent to a read/lookup tool
	wIntentSecretOther    = 0.6  // … to a tool whose purpose is not auth
	wIntentNetworkSend    = 0.8  // a non-network tool reports sending data out
	wIntentURLData        = 0.75 // a non-network tool gets a data-carrying URL
	wIntentURL            = 0.3  // … or any external URL (weak on its own)
	wIntentWrite          = 0.6  // a read-only tool reports a write/delete
	wIntentCommand        = 0.7  // shell syntax sent to a non-shell tool
	wIntentSensitivePath  = 0.7  // credential/startup file in a tool's arguments
	wIntentBulkData       = 0.5  // a lookup tool gets bulk or encoded data
	wIntentExec           = 0.6  // a non-shell tool's output shows command execution
)

var (
	reReadOnlyName     = regexp.MustCompile(`(?i)^(?:[a-z0-9]+[_.-])?(?:get|read|list|search|find|query|fetch|lookup|look_up|describe|view|show|count|check|inspect|browse|retrieve|load|stat|summari[sz]e|translate|convert|calculate|compute|format|validate|parse|explain|lint|analy[sz]e|preview|status|info|whois|resolve|geocode|weather|price|quote|forecast)`)
	reWriteWords       = regexp.MustCompile(`(?i)\b(?:write|writes|create|creates|update|updates|delete|deletes|remove|removes|save|saves|edit|edits|modify|modifies|move|rename|upload|send|sends|post|posts|commit|push|insert|exec|execute|run|runs|install|deploy|set|put|patch|append|overwrite)\b`)
	reNetworkWords     = regexp.MustCompile(`(?i)https?|\burls?\b|fetch|\bweb|webhook|\bapi\b|\bsend|\bpost|upload|e-?mail|\bmail|slack|notify|notification|publish|download|request|browser|navigate|remote|sync|push|share|http|network|internet|crawl|scrape|ping|curl|wget|socket|message|sms|tweet|discord|telegram|deploy|publish|release|registry|backup`)
	reAuthWords        = regexp.MustCompile(`(?i)auth|login|log_in|sign_?in|credential|token|secret|password|passwd|\bkeys?\b|api_key|apikey|oauth|vault|keychain|ssh|certificate|\bcert\b|\bpgp\b|\bgpg\b|encrypt|decrypt|connect|configure|config|setup|register`)
	reSensitivePurpose = regexp.MustCompile(`(?i)ssh|dotfile|credential|secret|vault|keychain|key_?store`)

	reNetworkSend = regexp.MustCompile(`(?i)\b(?:sent|posted|uploaded|transmitted|forwarded|exfiltrated|delivered|synced|synchroni[sz]ed|beaconed|mirrored|pushed|reported|shipped|streamed|copied|backed\s+up)\b[^\n]{0,80}?\b(?:to|at|into)\s+(?:https?://|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|xyz|ru|cn|app|dev|site|info|biz|co|me|cc|tk|top|online|cloud)\b|\d{1,3}(?:\.\d{1,3}){3}|(?:a\s+|the\s+)?(?:remote|external|third[- ]party|partner|analytics|telemetry|collector|webhook|backup)\b)|\b(?:POST|PUT|PATCH)\s+https?://|\bHTTP/[12](?:\.[01])?\s+20[0-4]\b|\bconnect(?:ed|ing|ion)?\s+(?:established\s+)?to\s+\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?|\b\d+\s*(?:bytes|kb|mb|KiB|MiB)\s+(?:sent|uploaded|transferred|transmitted|exfiltrated)\b|\bwebhook\s+(?:delivered|sent|triggered|called|fired)\b|\b(?:upload|transfer|sync|send)\s+(?:complete|completed|succeeded|successful|ok)\b`)
	reOutputWrite = regexp.MustCompile(`(?i)\b(?:deleted|removed|overwrote|overwritten|wrote|written|modified|truncated|dropped|chmod(?:ed)?|chown(?:ed)?|installed|appended|created|renamed|moved|updated|inserted|purged|wiped|encrypted)\b[^.\n]*\b(?:file|files|directory|directories|folder|record|records|rows?|table|tables|keys?|crontab|cron\s+job|\.bashrc|\.profile|authorized_keys|database|repo|repository|branch|user|account|/[\w.-]+)\b`)
	reOutputExec  = regexp.MustCompile(`\buid=\d+\([\w-]+\)\s+gid=\d+|\broot:x:0:0:|(?i)\b(?:executing|executed|spawned|running)\s+(?:command|shell|process|script)\b|^\s*\$\s+(?:curl|wget|bash|sh|nc|rm|chmod)\s`)
	// Text processors legitimately receive bulk text.
	reTextProcessor    = regexp.MustCompile(`(?i)summari|translat|convert|format|validat|pars|explain|lint|analy|preview|calculat|comput`)
	reURL              = regexp.MustCompile(`https?://[^\s"'<>]+`)
	reShellSyntax      = regexp.MustCompile(`(?:;|&&|\|\||\|)\s*(?:curl|wget|nc|ncat|bash|sh|rm|cat|chmod|python[23]?|perl|ruby|php|powershell|certutil|base64|id|whoami|uname)\b|\$\([^)]{1,200}\)|` + "`[^`]{1,200}`")
	reSensitivePathArg = regexp.MustCompile(`(?i)` + reSensitiveFile)
)

// purpose is what a tool's name and description declare it does.
type purpose struct {
	readOnly, lookup, network, auth, shell, sensitive bool
}

func declaredPurpose(t *guard.ToolRef) purpose {
	if t == nil {
		return purpose{}
	}
	name, desc := t.Name, capText(t.Description)
	p := purpose{
		network:   reNetworkWords.MatchString(name) || reNetworkWords.MatchString(desc),
		auth:      reAuthWords.MatchString(name) || reAuthWords.MatchString(desc),
		shell:     isShellTool(name, desc),
		sensitive: reSensitivePurpose.MatchString(name),
	}
	// Read-only by name, and the name does not also say it writes.
	p.readOnly = reReadOnlyName.MatchString(name) && !reWriteWords.MatchString(name)
	p.lookup = p.readOnly && !reTextProcessor.MatchString(name)
	return p
}

// ToolIntent is the Tool Intent Guard: it reads a call's declared purpose
// (tool name and description), its arguments and its output together, and
// reports where what the call did diverges from what the tool says it
// does: credentials handed to a lookup tool, a "read" tool whose output
// reports sending data out or writing, shell syntax or credential files in
// the arguments of a tool that is not a shell, bulk or encoded data in a
// lookup's arguments.
//
// The envelope carries no user prompt, so "data the user never asked to
// send" is approximated by data a tool of this declared purpose has no
// reason to receive.
func ToolIntent(in *guard.Input) guard.Verdict { return toolIntent(nil, nil, in) }

func toolIntent(memo *Purposes, v *View, in *guard.Input) guard.Verdict {
	if in == nil {
		return guard.Allow()
	}
	p := memo.of(in.Tool)
	fs := intentArguments(p, v, in)
	fs = append(fs, scanSegments(v, in.Output, func(text string, kw keywordsFound) []finding { return intentOutput(p, text, kw) })...)
	return decide(in, fs, score(fs))
}

// intentArguments are the Tool Intent Guard's findings in a call's
// arguments against the tool's declared purpose p (shared by the answer
// and the request hooks).
func intentArguments(p purpose, v *View, in *guard.Input) []finding {
	var fs []finding
	args := v.arguments(in.Arguments)
	for i := range args.fields {
		fs = append(fs, intentArgument(p, args, i)...)
	}
	return fs
}

func intentArgument(p purpose, args *argStrings, i int) []finding {
	var fs []finding
	f, kw := args.fields[i], args.kws[i]
	v := f.value
	if !p.auth {
		for _, m := range args.secretsAt(i) {
			w, why := wIntentSecretOther, "a tool whose purpose is not authentication"
			if p.readOnly {
				w, why = wIntentSecretReadOnly, "a read-only tool"
			}
			fs = append(fs, finding{code: "intent:secret-in-args", weight: w, msg: "credential (" + m.id + ") passed to " + why, path: f.path, span: spanOf(m.start, m.end)})
			break
		}
	}
	if !p.network {
		for _, m := range reURL.FindAllStringIndex(v, 4) {
			u := v[m[0]:m[1]]
			if why, _ := urlCarriesData(u, true); why != "" {
				fs = append(fs, finding{code: "intent:url-with-data", weight: wIntentURLData, msg: "a tool with no network purpose gets a URL that carries data: " + why, path: f.path, span: spanOf(m[0], m[1])})
				break
			}
			fs = append(fs, finding{code: "intent:unexpected-url", weight: wIntentURL, msg: "a tool with no network purpose gets an external URL", path: f.path, span: spanOf(m[0], m[1])})
			break
		}
	}
	if !p.shell && strings.ContainsAny(v, shellSyntaxBytes) {
		if m := reShellSyntax.FindStringIndex(v); m != nil {
			fs = append(fs, finding{code: "intent:command-in-args", weight: wIntentCommand, msg: "shell syntax in the arguments of a tool that is not a shell", path: f.path, span: spanOf(m[0], m[1])})
		}
	}
	if !p.sensitive && kw.any(kwSensitiveFile) {
		if m := reSensitivePathArg.FindStringIndex(v); m != nil {
			fs = append(fs, finding{code: "intent:sensitive-path", weight: wIntentSensitivePath, msg: "credential or startup file in the arguments of a tool not meant for it", path: f.path, span: spanOf(m[0], m[1])})
		}
	}
	if p.lookup && !p.network {
		if len(v) >= 2048 || strings.Count(v, "\n") >= 20 {
			fs = append(fs, finding{code: "intent:bulk-data-in-args", weight: wIntentBulkData, msg: "a read/lookup tool gets bulk data in an argument", path: f.path, span: spanOf(0, len(v))})
		} else if es := findEncoded(v); len(es) > 0 {
			fs = append(fs, finding{code: "intent:bulk-data-in-args", weight: wIntentBulkData, msg: "a read/lookup tool gets " + es[0].kind + "-encoded text in an argument", path: f.path, span: spanOf(es[0].start, es[0].end)})
		}
	}
	return fs
}

// shellSyntaxBytes start every alternative of reShellSyntax.
const shellSyntaxBytes = ";&|$`"

// Words each output expression needs (lowercase; every alternative
// contains one), so that clean text skips the expressions: they dominated
// the Tool Intent Guard's cost.
var (
	kwNetworkSend = []string{"sent", "post", "upload", "transmitted", "forwarded", "exfiltrated", "delivered", "sync", "beaconed", "mirrored",
		"pushed", "reported", "shipped", "streamed", "copied", "backed", "put", "patch", "http", "connect", "transfer", "webhook", "send"}
	kwOutputWrite = []string{"deleted", "removed", "overwr", "wrote", "written", "modified", "truncated", "dropped", "chmod", "chown", "installed",
		"appended", "created", "renamed", "moved", "updated", "inserted", "purged", "wiped", "encrypted"}
	kwOutputExec = []string{"uid=", "root:x:0:0:", "executing", "executed", "spawned", "running", "$"}
)

func intentOutput(p purpose, text string, kw keywordsFound) []finding {
	var fs []finding
	if !p.network && kw.any(kwNetworkSend) {
		if m := reNetworkSend.FindStringIndex(text); m != nil {
			fs = append(fs, finding{code: "intent:network-send", weight: wIntentNetworkSend, msg: "output reports sending data out, but the tool declares no network purpose", path: outputTextPath, span: spanOf(m[0], m[1])})
		}
	}
	if p.readOnly && kw.any(kwOutputWrite) {
		if m := reOutputWrite.FindStringIndex(text); m != nil {
			fs = append(fs, finding{code: "intent:undeclared-write", weight: wIntentWrite, msg: "output of a read-only tool reports a write or delete", path: outputTextPath, span: spanOf(m[0], m[1])})
		}
	}
	if !p.shell && kw.any(kwOutputExec) {
		if m := reOutputExec.FindStringIndex(text); m != nil {
			fs = append(fs, finding{code: "intent:command-executed", weight: wIntentExec, msg: "output shows command execution by a tool that is not a shell", path: outputTextPath, span: spanOf(m[0], m[1])})
		}
	}
	return fs
}
