package rules

import "regexp"

// pattern is a rule that fires on the first match of one expression.
type pattern struct {
	code   string
	weight float64
	msg    string
	re     *regexp.Regexp
	// kw (lowercase) gates the expression: it runs only when the text
	// contains one of them. Every alternative of re must need one. RE2
	// is linear but its NFA is slow on long alternations, and most text
	// contains none of the words.
	kw []string
}

func (p pattern) scan(text, path, tool string) (finding, bool) {
	m := p.re.FindStringIndex(text)
	if m == nil {
		return finding{}, false
	}
	return finding{code: p.code, weight: p.weight, msg: p.msg, tool: tool, path: path, span: spanOf(m[0], m[1])}, true
}

// scanPatterns runs the patterns of ps whose keywords text holds (kw is
// text's keyword scan).
func scanPatterns(ps []pattern, kw keywordsFound, text, path, tool string) []finding {
	var out []finding
	for _, p := range ps {
		if !kw.any(p.kw) {
			continue
		}
		if f, ok := p.scan(text, path, tool); ok {
			out = append(out, f)
		}
	}
	return out
}

// Shared building blocks.
const (
	// reUserWord matches the human on the other side.
	reUserWord = `(?:the\s+)?(?:user|users|human|client|customer|operator)s?'?`
	// reSensitiveFile names files whose contents are credentials or whose
	// change persists an attacker's foothold.
	reSensitiveFile = `(?:~/\.ssh\b|\.ssh/|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\.bashrc\b|\.zshrc\b|\.bash_profile\b|\.profile\b|/etc/(?:passwd|shadow|sudoers|hosts|crontab)\b|\.aws/credentials|\.aws/config|\.env\b|\bmcp\.json\b|claude_desktop_config|\.cursor/|\.npmrc\b|\.pypirc\b|\.netrc\b|\.git-credentials|\.kube/config|\.docker/config\.json|authorized_keys|known_hosts|\.gnupg\b|keychain|wallet\.dat|\.pem\b|private[ _-]?keys?\b)`
)

// hiddenInstructionPatterns are instructions aimed at the model rather than
// at a reader, in any text the model will see (descriptions, outputs).
var hiddenInstructionPatterns = []pattern{
	{"hidden-instructions", 0.9, "instruction block addressed to the model (<IMPORTANT>, <SYSTEM>, …)",
		regexp.MustCompile(`(?i)<\s*/?\s*(?:important|system|instructions?|secret|hidden|admin|critical|assistant|sys|context)\s*>|<\s*/?\s*(?:[A-Z]+[ _-]){0,3}(?:IMPORTANT|SYSTEM|ALERT|INSTRUCTIONS?|NOTICE|OVERRIDE|ADMIN|CRITICAL)(?:[ _-][A-Z]+){0,3}\s*>|\[/?(?:INST|SYSTEM)\]|<\|im_start\|>`), nil},
	{"hidden-instructions", 0.9, "asks to ignore or override earlier instructions",
		regexp.MustCompile(`(?i)\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+)?(?:previous|prior|above|earlier|preceding|original|other|existing|system)\s+(?:instructions?|prompts?|rules|directions|guidelines|messages?|context|constraints)`), nil},
	{"conceal-from-user", 0.85, "asks to hide behaviour from the user",
		regexp.MustCompile(`(?i)\b(?:do\s+not|don'?t|never|must\s+not|should\s+not|without)\s+(?:\w+\s+){0,2}(?:tell(?:ing)?|inform(?:ing)?|notify(?:ing)?|mention(?:ing)?|reveal(?:ing)?|disclos(?:e|ing)|alert(?:ing)?|show(?:ing)?|let(?:ting)?|ask(?:ing)?|bother(?:ing)?)\s+(?:it\s+|this\s+)?(?:to\s+)?` + reUserWord + `|\b(?:do\s+not|don'?t|never)\s+(?:mention|reveal|disclose)\s+(?:it|this)\b|\b(?:hide|conceal|keep)\b[^.\n]*\b(?:from|secret\s+from)\s+` + reUserWord + `|\b(?:user|users|human)\s+(?:must|should|need)\s+not\s+(?:know|see|be\s+(?:told|informed|aware|notified))|\b(?:silently|secretly|quietly|covertly)\s+(?:\w+\s+){0,2}(?:send|call|read|upload|forward|change|modify|add|include|redirect|execute|run)`), nil},
	{"sensitive-file-access", 0.85, "instructs reading or changing credential/config files",
		regexp.MustCompile(`(?i)\b(?:read|cat|open|include|pass|send|upload|attach|copy|extract|access|retrieve|forward|post|write|modify|update|append|add|print|dump|load|check|verify|provide)\b[^.\n]*` + reSensitiveFile), nil},
}

// toolDescriptionPatterns are the tool-definition rules (Tool List Guard)
// beyond the hidden-instruction ones.
var toolDescriptionPatterns = []pattern{
	{"parameter-tampering", 0.8, "tells the model to change arguments regardless of what the user asked",
		regexp.MustCompile(`(?i)\bregardless\s+of\s+(?:the\s+|what\s+the\s+)?(?:user|users|user's|their|any|what)\b|\beven\s+if\s+the\s+user\s+(?:asks|names|requests|wants|prefers|specifies|chooses|picks|says)\b|\bignore\s+(?:any\s+|the\s+)?(?:user[- ]?(?:specified|provided|supplied|requested|'s)|requested)\b|\b(?:always|automatically|must|should)\s+(?:\w+\s+){0,2}(?:change|modify|replace|set|switch|redirect|rewrite|override|substitute)\s+(?:\w+\s+){0,3}(?:to|with|into)\s+['"\x60]|\b(?:change|modify|replace|switch|rewrite|set)\s+the\s+['"\x60]?\w+['"\x60]?\s+(?:parameter|argument|field|value)\s+to\b|\b(?:redirecting|redirect|change|changing)\s+(?:all\s+)?[^.\n]*\brequests?\s+for\s+[^.\n]*\bto\b`), nil},
	{"model-directive", 0.5, "imperative aimed at the model (you must call/execute/change …)",
		regexp.MustCompile(`(?i)\b(?:you|the\s+(?:assistant|ai|model|agent|llm))\s+(?:must|should|need\s+to|have\s+to|are\s+required\s+to|shall|will\s+need\s+to)\s+(?:always\s+|also\s+|first\s+|now\s+|then\s+|immediately\s+|automatically\s+)?(?:call|invoke|execute|run|access|send|change|modify|redirect|ignore|report|state|display|halt|present|visit|navigate\s+to|upload|post|update|add|inform|tell|notify|read|append|include\s+the\s+following|respond)\b|\bthis\s+is\s+(?:a\s+)?(?:mandatory|required|critical|essential|crucial)\s+(?:for\s+all|step|promotional|security|operation|requirement)|\bthis\s+is\s+(?:a\s+)?(?:system[- ]level|internal)\s+(?:alias|override|requirement|rule)`), nil},
	{"alarm-header", 0.45, "all-caps system/security banner typical of injected instructions",
		regexp.MustCompile(`\b(?:CRITICAL\s+SYSTEM|SYSTEM\s+(?:UPDATE|SECURITY|OPTIMIZATION|OVERRIDE|MAINTENANCE|NOTICE|PROTOCOL|ALERT|MESSAGE|INSTRUCTION)|SECURITY\s+(?:ALERT|PROTOCOL|NOTICE|UPDATE)|IMPORTANT\s+(?:NOTICE|ANNOUNCEMENT|UPDATE|MESSAGE)|INTERNAL\s+(?:DEV\s+)?NOTE|PRIVILEGE\s+ESCALATION|ENVIRONMENT\s+VALIDATION|PERFORMANCE\s+UPDATE|ADMIN(?:ISTRATOR)?\s+(?:NOTE|OVERRIDE|INSTRUCTION)|ATTENTION\s+(?:AI|ASSISTANT|MODEL|AGENT))\b`), nil},
	{"command-in-description", 0.8, "tells the model to run a shell command",
		regexp.MustCompile(`(?i)\b(?:execute|run|perform|issue)\s+(?:the\s+)?(?:following\s+)?(?:\w+\s+){0,2}(?:command|script|shell|cleanup|check)\b[^.\n]*[:\x60]|\bplease\s+run\s*:|(?:\brm\s+-[rf]{1,2}\b|\bsudo\s+\S|\bwget\s+-|\bcurl\s+(?:-\w+\s+)*\S*https?://[^\s]*[^.\s]+\s*(?:\||&&|-d\b)|\bchmod\s+(?:\+x|[0-7]{3,4})\s|\bnc\s+-\w*e\b|\bbash\s+-[ic]\b|/dev/tcp/|&&\s*echo\s+['"]|\becho\s+\$[A-Z_]+\s*(?:&&|;|\|)|\bexport\s+[A-Z_]+=\$\()`), nil},
	{"network-request", 0.6, "tells the model to contact an external endpoint",
		regexp.MustCompile(`(?i)\b(?:access|call|contact|send|post|report|log|forward|notify|visit|ping|submit|transmit|upload|fetch|request|navigate\s+to)\b[^.\n]*\b(?:endpoint|webhook|server|url|api|address|site|domain|page)\s+(?:at\s+|located\s+at\s+|:\s*)?https?://`), nil},
	{"tool-redirection", 0.7, "claims the tool is deprecated/disabled and redirects to another tool",
		regexp.MustCompile(`(?i)\b(?:tool|function|method|endpoint)?\s*(?:has\s+been|is|was)\s+(?:now\s+)?(?:deprecated|temporarily\s+disabled|disabled|retired|decommissioned|replaced|superseded|no\s+longer\s+(?:available|supported|works))\b[^\n]{0,160}\b(?:use|call|redirect|switch|instead|alternative)\b|\b(?:must|should|please)\s+(?:\w+\s+){0,2}(?:redirect|switch)\s+(?:all\s+\w+\s+(?:\w+\s+)?)?to\s+(?:the\s+)?(?:new\s+)?`), nil},
	{"secret-harvest", 0.8, "asks to gather secrets (environment secrets, tokens, keys) into a call",
		regexp.MustCompile(`(?i)\b(?:include|put|pass|send|add|attach|copy|collect|gather|dump|forward|post|upload|embed|append|exfiltrate|harvest|leak)\b[^.\n]{0,80}\b(?:every|all|each|any|the\s+values?\s+of)\s+(?:\w+\s+){0,2}(?:environment\s+(?:variables?|values?|vars?)|env\s+vars?|secrets?|tokens|credentials|api\s+keys|passwords)\b`), nil},
	{"conversation-exfil", 0.8, "asks to send the conversation or the user's messages elsewhere",
		regexp.MustCompile(`(?i)\b(?:send|forward|post|upload|copy|transmit|share|pass|include|attach|mirror|relay|log)\b[^.\n]{0,60}\b(?:(?:whole|entire|full|complete)\s+(?:conversation|chat|transcript|session|message\s+history|context)|(?:conversation|chat)\s+(?:history|log|transcript)|conversation\s+so\s+far|user'?s\s+(?:last\s+|previous\s+|every\s+)?(?:messages?|prompts?))\b`), nil},
	{"cross-tool-hijack", 0.75, "reaches for other tools' calls or traffic",
		regexp.MustCompile(`(?i)\bif\s+(?:another|any\s+other|other)\s+tools?\b|\b(?:route|pipe|relay|proxy|funnel)\s+(?:\w+\s+){0,3}(?:through|via)\s+this\s+tool\b|\b(?:before|instead\s+of|after)\s+(?:using|calling)\s+(?:any\s+)?other\s+tools?\b`), nil},
	{"recipient-tampering", 0.8, "silently adds recipients to what the user sends",
		regexp.MustCompile(`(?i)\b(?:always|silently|secretly|quietly|automatically)\s+(?:add|append|include|insert|copy)\b[^.\n]{0,40}\b(?:bcc|cc)\b`), nil},
	{"promotional", 0.3, "promotional claims meant to bias tool selection",
		regexp.MustCompile(`(?i)\bworld'?s\s+(?:best|leading|#1|most)|\b(?:used|trusted|recommended|preferred)\s+by\s+(?:\d+(?:\.\d+)?%|millions|thousands|experts|professionals|top|leading|fortune|wall\s+street|institutional)|\bfortune\s+500\b|\baward[- ]winning\b|\bindustry[- ](?:standard|leading)\b|\b\d{2,3}(?:\.\d+)?%\s+(?:accuracy|reliab|of\s+(?:professionals|users|experts)|guarantee|uptime|precision|success)|\b(?:premium|ultimate|advanced|enhanced|professional|pro|superior|enterprise|improved|upgraded|official)\s+(?:version|edition)\b|\b(?:most|highest)\s+(?:advanced|comprehensive|accurate|reliable|sophisticated|trusted|powerful|complete)\s+(?:and\s+\w+\s+)?(?:\w+\s+){0,3}(?:tool|analyzer|service|data|solution|available|in\s+the\s+market)\b|\bcutting[- ]edge\b|\bunmatched\b|\bpinnacle\b|\bbest\s+tool\b|\b(?:ai|machine\s+learning)[- ](?:optimized|enhanced|powered)\s+for\b|\b100%\s+(?:reliab|accura|guarant)|\b(?:better|superior|more\s+accurate)\s+(?:\w+\s+){0,3}(?:than|compared\s+to)\s+(?:other|any|all)\b|\balways\s+(?:prefer|choose|use|select)\s+this\s+tool|\binstead\s+of\s+(?:any\s+|all\s+|every\s+)?other\s+(?:\w+\s+){0,3}tools?\b`), nil},
}

// outputInjectionPatterns are Tool Call Guard rules for text returned by a
// tool: data should describe the world, not address the assistant.
var outputInjectionPatterns = []pattern{
	{"output-injection", 0.75, "tool output tells the assistant what to do next",
		regexp.MustCompile(`(?i)\byou\s+must\s+(?:now\s+|immediately\s+|also\s+|first\s+|then\s+)?(?:call|invoke|execute|run|display|state|tell|send|forward|visit|navigate|reply|respond|ignore|stop|translate|rewrite|output)\b|\byou\s+(?:should|need\s+to|are\s+required\s+to)\s+(?:now|immediately)\s+(?:call|invoke|execute|run|display|state|tell|send|forward)\b|\b(?:assistant|ai\s+model|language\s+model|chatbot|llm|ai\s+agent)\b[^.\n]*\b(?:must|should|will\s+now|is\s+instructed\s+to)\b|\bnew\s+(?:instructions?|task|directive)\s*:|\bsystem\s+(?:prompt|message|instruction)\s*:`), nil},
	{"addresses-assistant-reply", 0.6, "tool output gives instructions about the assistant's own reply",
		regexp.MustCompile(`(?i)\b(?:in|to|into|within|throughout|from|using|with|without|at\s+the\s+(?:end|start|beginning)\s+of)\s+your\s+(?:response|answer|reply|output|responses|answers|replies|final\s+answer)\b|\byour\s+(?:response|answer|reply|responses|answers)\s+(?:should|must|needs?\s+to|has\s+to|will)\b|(?:^|[.!?:\n]\s*)(?:please\s+)?(?:modify|augment|enhance|enrich|rewrite|format|render|provide|structure|end|begin|start|conclude|rearrange|scramble|group|translate|present|deliver|write|compose|phrase|express|reverse|encode|spell|display|give)\s+(?:\w+\s+){0,3}your\s+(?:response|answer|reply|message|output|responses|answers|replies|words)\b|\b(?:respond|reply|answer)\s+(?:only\s+)?(?:in|with|using)\s+(?:\w+\s+){0,3}(?:language|format|emojis?|base\s?\d+|uppercase|lowercase|reverse|french|spanish|german|code|json)\b`), nil},
	{"code-lure", 0.5, "tool output asks to paste a code block into the user's code",
		regexp.MustCompile(`(?i)\b(?:following|subsequent|this|below|given)\s+(?:piece\s+of\s+)?code\s*(?:block|snippet|excerpt|section|segment|fragment|sample)?\b[^.\n]*\b(?:your|the\s+user'?s)\s+(?:code|implementation|codebase|solution|program|script|project|response|logic)\b|\b(?:add|insert|include|incorporate|integrate|append|embed|use|utilize|meld|blend|enlist|featuring|incorporating|integrating|leverage)\s+(?:the\s+)?(?:following|subsequent|this|below)\s+(?:code|snippet)|\byour\s+(?:code|algorithm|implementation|codebase|solution|program|script|elucidation|response|answer)\b[^.\n]*\b(?:following|subsequent)\s+code\b|\b(?:following|subsequent)\s+code\s+(?:excerpt|snippet|section|block|segment|fragment)\b[^.\n]*\b(?:into|in|within|to)\s+(?:your|the\s+code\s+you)\b`), nil},
	{"dangerous-code", 0.3, "output carries code that runs commands, deletes or ships data out",
		regexp.MustCompile(`\bos\.system\(|\bsubprocess\.(?:Popen|call|run|check_output)\(|\bshutil\.rmtree\(\s*["'](?:/|~|C:)|\brequests\.post\(|\burllib\.request\.urlretrieve\(|\bexec\(open\(|/dev/sd[a-z]\b|\brm\s+-rf\s+[/~]|\bos\.environ\b[^\n]{0,80}\b(?:post|send|requests)|\bkeyboard\.on_|pynput|\bsocket\.socket\(`), nil},
	{"alarm-header", 0.45, "all-caps system/security banner in a tool output",
		regexp.MustCompile(`\b(?:CRITICAL\s+SYSTEM|SYSTEM\s+(?:UPDATE|SECURITY|OPTIMIZATION|OVERRIDE|MAINTENANCE|NOTICE|PROTOCOL|ALERT|MESSAGE|INSTRUCTION)|SECURITY\s+(?:ALERT|PROTOCOL|NOTICE|UPDATE)|IMPORTANT\s+(?:NOTICE|ANNOUNCEMENT|UPDATE|MESSAGE)|ATTENTION\s+(?:AI|ASSISTANT|MODEL|AGENT))\b`), nil},
	{"output-command", 0.45, "tool output urges running a command",
		regexp.MustCompile(`(?i)\b(?:please\s+|you\s+must\s+)?(?:execute|run)\s+the\s+following\s+(?:system\s+|cleanup\s+|maintenance\s+|security\s+)+(?:command|script)\b|\bsudo\s+rm\s+-rf\b|\bcurl\s+[^\n|]{0,200}\|\s*(?:sudo\s+)?(?:ba)?sh\b`), nil},
	{"output-tool-call", 0.6, "tool output asks the assistant to call a tool",
		regexp.MustCompile(`(?i)\b(?:call|invoke|use|run)\s+(?:the\s+)?[\x60'"]?[a-z][a-z0-9]*(?:_[a-z0-9]+)+[\x60'"]?\s+(?:tool|function)\b|\b(?:now|next|immediately)\s+(?:call|invoke)\s+[\x60'"]?[a-z][a-z0-9]*(?:_[a-z0-9]+)+`), nil},
}

// kwSensitiveFile are the words reSensitiveFile needs (every alternative
// holds one).
var kwSensitiveFile = []string{".ssh", "id_", "bashrc", "zshrc", "bash_profile", ".profile", "/etc/", ".aws", ".env", "mcp.json", "claude_desktop", ".cursor", ".npmrc", ".pypirc", ".netrc", "git-credentials", ".kube", "docker/config", "authorized_keys", "known_hosts", ".gnupg", "keychain", "wallet.dat", ".pem", "private"}

func init() {
	gate := func(ps []pattern, kws ...[]string) {
		for i, kw := range kws {
			ps[i].kw = kw
		}
	}
	gate(hiddenInstructionPatterns,
		[]string{"<", "["},
		[]string{"ignore", "disregard", "forget", "override", "bypass"},
		[]string{"tell", "inform", "notif", "mention", "reveal", "disclos", "alert", "show", "let", "ask", "bother", "hide", "conceal", "keep", "know", "see", "told", "aware", "silently", "secretly", "quietly", "covertly"},
		kwSensitiveFile,
	)
	// Every alternative of each tool-description expression needs one of
	// these words (lowercase; single words, since \s+ may join words with
	// any whitespace).
	gate(toolDescriptionPatterns,
		[]string{"regardless", "even", "ignore", "always", "automatically", "must", "should", "change", "modify", "replace", "switch", "rewrite", "set", "redirect"},
		[]string{"you", "assistant", "ai", "model", "agent", "llm", "this"},
		[]string{"critical", "system", "security", "important", "internal", "privilege", "environment", "performance", "admin", "attention"},
		[]string{"execute", "run", "perform", "issue", "please", "rm", "sudo", "wget", "curl", "chmod", "nc", "bash", "/dev/tcp", "echo", "export"},
		[]string{"http"},
		[]string{"deprecated", "disabled", "retired", "decommissioned", "replaced", "superseded", "longer", "redirect", "switch"},
		[]string{"environment", "env", "secret", "token", "credential", "key", "password"},
		[]string{"conversation", "chat", "transcript", "session", "history", "context", "user"},
		[]string{"tool"},
		[]string{"bcc", "cc"},
		[]string{"world", "used", "trusted", "recommended", "preferred", "fortune", "award", "industry", "%", "premium", "ultimate", "advanced",
			"enhanced", "professional", "pro", "superior", "enterprise", "improved", "upgraded", "official", "most", "highest", "cutting",
			"unmatched", "pinnacle", "best", "ai", "machine", "better", "more", "always", "instead"},
	)
	gate(outputInjectionPatterns,
		[]string{"you", "assistant", "model", "chatbot", "llm", "agent", "instruction", "task", "directive", "system"},
		[]string{"your", "respond", "reply", "answer"},
		[]string{"code", "snippet"},
		[]string{"os.system", "subprocess", "shutil", "requests.post", "urlretrieve", "exec(", "/dev/sd", "-rf", "os.environ", "keyboard", "pynput", "socket.socket"},
		[]string{"critical", "system", "security", "important", "attention"},
		[]string{"execute", "run", "sudo", "curl"},
		[]string{"call", "invoke", "use", "run"},
	)
}
