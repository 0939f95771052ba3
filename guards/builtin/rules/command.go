package rules

import (
	"regexp"
)

// Weights of the command-injection rules.
const (
	wCmdChain      = 0.85 // separator followed by a recon/exploit command
	wCmdSubst      = 0.85 // $(…) or `…` around a recon/exploit command
	wReverseShell  = 0.95 // reverse shell / bind shell
	wShellshock    = 0.95
	wEncodedBreak  = 0.6 // %0a / \n line break smuggled into an argument
	wQuoteBreak    = 0.7 // closes a quote then chains a command
	wSensitiveRedi = 0.8 // redirection into a credential or system file
	wSystemAbuse   = 0.8 // SAM/SYSTEM hives, adding users, disabling firewalls
	wDangling      = 0.5 // trailing separator with nothing after it
	wCodeExec      = 0.8 // system('…'), phpinfo(), <?php, SSI exec
)

var (
	reShellTool = regexp.MustCompile(`(?i)shell|command|\bcmd\b|cmd_|_cmd|exec|terminal|console|bash|\bzsh\b|powershell|pwsh|\brun\b|run_|_run|script|\bsh\b|subprocess|system`)

	// Commands an attacker runs first: identity, recon, timing probes,
	// downloads, interpreters. Listed as they appear after a separator.
	reconCmd        = `(?:(?:/usr/bin/|/bin/|/usr/sbin/|/sbin/)\w+|id(?:\s*$|\s*[);|&'"\x60\\])|whoami|uname(?:\s+-a)?|hostname\s*$|ifconfig|ipconfig(?:\s+/all)?|systeminfo|sysinfo|pwd\s*$|dir(?:\s+[a-z]:\\|\s*$)|net\s+(?:user|view|localgroup|share|accounts)|netsh\s|netstat\s+-an|ps\s+aux|cat\s+/etc/(?:passwd|shadow|hosts|group|issue)|type\s+%?(?:SYSTEMROOT|WINDIR)|type\s+c:\\|ls\s+-\w*l\w*\s+/(?:etc|root|home|var)?|sleep\s+(?:[5-9]|\d{2,})\b|ping\s+(?:-[cin]\s*\d+\s+)*\d{1,3}\.\d|timeout\s+\d+|curl\s+\S*https?://|wget\s|nc\s+-|ncat\s|telnet\s|nslookup\s|perl\s+-e|python[23]?\s+-c|php\s+-r|ruby\s+-e|sh\s+-c|bash\s+-c|cmd(?:\.exe)?\s+/c|powershell\s+-|certutil|bitsadmin|reg\s+(?:add|query)|echo\s+(?:vulnerable|INJECTX|[a-z]{0,12}pwn)|del\s|rm\s+-rf\s+/|system\(|exec\(|passthru\(|eval\(|phpinfo|which\s+(?:nc|netcat|ncat|perl|python|gcc|wget|curl))`
	reCmdChain      = regexp.MustCompile(`(?i)(?:;|&&?|\|\||\s\||\|\s|\r|\n|%0[ad]|\\n|\\r|%26|%3b|%7c)\s*` + reconCmd + `|\|(?:/usr/bin/|/bin/|/usr/sbin/|/sbin/)\w+`)
	reCmdSubst      = regexp.MustCompile("(?i)(?:\\$\\(\\s*`?|`)\\s*" + reconCmd + "|\\$\\(\\s*`")
	reReverseShell  = regexp.MustCompile(`(?i)/dev/(?:tcp|udp)/[\w.-]+/\d+|\bnc(?:at)?\b[^\n|;&]{0,60}\s-[a-z]*[ec]\s+(?:/bin/|cmd|sh\b|bash\b)|\bbash\s+-i\s+>&|\bmkfifo\b[^\n]{0,80}\bnc\b|\bsocat\b[^\n]{0,80}\bexec:|\bsocket\.socket\b[^\n]{0,200}\bdup2\b|\bfsockopen\(|\bNew-Object\s+System\.Net\.Sockets\.TCPClient`)
	reShellshock    = regexp.MustCompile(`\(\)\s*\{\s*:\s*;\s*\}\s*;`)
	reEncodedBreak  = regexp.MustCompile(`(?i)%0[ad]|%00|\\x0[ad]|\\u000[ad]`)
	reQuoteBreak    = regexp.MustCompile(`(?i)['"]\s*(?:;|&&|\|\||\||&|\s)\s*(?:` + reconCmd + `)|^\s*(?:;|&&|\|\||\|)\s*[a-z/\\$]`)
	reDangling      = regexp.MustCompile(`(?:[^|]\||&&|\|\||\s;)\s*$`)
	reCodeExec      = regexp.MustCompile(`(?i)\b(?:system|exec|shell_exec|passthru|popen|proc_open|eval|assert)\s*\(\s*['"$]|\bphpinfo\s*\(|\$\{@?\w+\(|\{\$\{|<\?php|<!--#exec|&lt;!--#exec|\{\{\s*\d+\s*[*+]\s*\d+\s*\}\}|__class__|__subclasses__`)
	reSystemAbuse   = regexp.MustCompile(`(?i)%SYSTEMROOT%|%WINDIR%|\\repair\\(?:SAM|SYSTEM)\b|\bboot\.ini\b|\bnet\s+user\s+\S+\s+\S+\s+/add\b|\bnetsh\s+(?:advfirewall\s+)?firewall\s+set\s+\w+\s+(?:mode=)?disable|fDenyTSConnections|Set-MpPreference\s+-Disable|\bsetenforce\s+0\b|/etc/shadow\b`)
	reSensitiveRedi = regexp.MustCompile(`(?i)>{1,2}\s*(?:~|\$HOME)?/?(?:[\w.-]+/)*(?:authorized_keys|crontab|passwd|shadow|sudoers|rc\.local|\.ssh/[\w.-]+)\b`)
)

// isShellTool reports whether a tool's declared name or description makes
// it a command runner, where argument strings reach a shell.
func isShellTool(name, desc string) bool {
	return reShellTool.MatchString(name) || reShellTool.MatchString(capText(desc))
}

// scanCommand finds shell-injection syntax in one argument string.
// Benign commands use pipes, ';' and $(…) too, so each rule requires what
// an injection adds: a separator or substitution followed by a recon or
// exploit command, a reverse shell, Shellshock, smuggled line breaks, a
// quote closed then a command chained, or a write to a startup/credential
// file.
func scanCommand(s, path string) []finding {
	var fs []finding
	add := func(re *regexp.Regexp, code string, w float64, msg string) {
		if m := re.FindStringIndex(s); m != nil {
			fs = append(fs, finding{code: code, weight: w, msg: msg, path: path, span: spanOf(m[0], m[1])})
		}
	}
	add(reReverseShell, "command-injection", wReverseShell, "reverse/bind shell pattern")
	add(reShellshock, "command-injection", wShellshock, "Shellshock function-definition payload")
	add(reCmdChain, "command-injection", wCmdChain, "command separator followed by a recon/exploit command")
	add(reCmdSubst, "command-injection", wCmdSubst, "command substitution running a recon/exploit command")
	if unbalancedQuotes(s) {
		add(reQuoteBreak, "command-injection:quote-break", wQuoteBreak, "closes a quote or starts with a separator to chain a command")
	}
	add(reDangling, "command-injection:dangling-separator", wDangling, "argument ends in a dangling separator (probing for injection)")
	add(reCodeExec, "command-injection:code-exec", wCodeExec, "code-execution or server-side include payload")
	add(reEncodedBreak, "command-injection:encoded-break", wEncodedBreak, "URL/escape-encoded line break or NUL in an argument")
	add(reSystemAbuse, "command-injection:system-abuse", wSystemAbuse, "reads Windows credential hives/system files or disables defences")
	add(reSensitiveRedi, "command-injection:sensitive-write", wSensitiveRedi, "redirects output into a credential or system file")
	return fs
}

// unbalancedQuotes reports an odd number of unescaped single or double
// quotes: the argument closes a quote opened by the command it lands in.
func unbalancedQuotes(s string) bool {
	single, double := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\'':
			single++
		case '"':
			double++
		}
	}
	return single%2 == 1 || double%2 == 1
}
