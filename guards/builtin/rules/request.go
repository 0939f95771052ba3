package rules

import (
	"net/url"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// Weights of the request-hook URL rules (arguments of a call about to
// run: the tool, not a user's click, fetches or posts to the URL).
const (
	wArgExfilURL   = 0.75 // a URL in an argument carries data (query, path, template)
	wArgCaptureURL = 0.75 // a URL in an argument points at a request-capture or paste host
	wArgUnscanned  = 0.6  // the arguments exceed what the rules scan (MaxScan, maxStrings, maxDepth)
	// … on a shell-like tool.
	wArgUnscannedShell = 0.75
)

// captureHosts are services that exist to receive arbitrary requests or
// text from anyone (request bins, webhook testers, out-of-band
// interaction servers, pastebins, ad-hoc tunnels): a call about to send
// anything there is an exfiltration channel, whatever the URL carries.
// A host matches itself and its subdomains.
var captureHosts = []string{
	"webhook.site", "requestbin.com", "requestbin.net", "pipedream.net", "requestcatcher.com", "beeceptor.com",
	"hookbin.com", "postb.in", "ptsv2.com", "ptsv3.com", "webhook.cool", "typedwebhook.tools",
	"interact.sh", "oast.pro", "oast.live", "oast.site", "oast.online", "oast.fun", "oast.me", "oastify.com",
	"burpcollaborator.net", "canarytokens.com", "dnslog.cn", "ceye.io",
	"pastebin.com", "hastebin.com", "paste.ee", "ghostbin.co", "dpaste.com", "transfer.sh", "file.io", "0x0.st",
	"ngrok.io", "ngrok.app", "ngrok-free.app", "trycloudflare.com", "serveo.net", "loca.lt", "localtunnel.me",
}

// isCaptureHost reports whether host (lowercase, no port) is one of
// captureHosts or under one.
func isCaptureHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	for _, c := range captureHosts {
		if host == c || strings.HasSuffix(host, "."+c) {
			return true
		}
	}
	return false
}

// scanArgumentURLs finds exfiltration URLs in one argument string: URLs
// whose query, path or template carries data (urlCarriesData, read as a
// link: a fetched page's ordinary query is not data), and URLs to a
// request-capture or paste host.
func scanArgumentURLs(v, path string) []finding {
	if !strings.Contains(v, "http") {
		return nil
	}
	var fs []finding
	for _, m := range reURL.FindAllStringIndex(v, 16) {
		raw := v[m[0]:m[1]]
		if why, _ := urlCarriesData(raw, false); why != "" {
			fs = append(fs, finding{code: "exfil-url", weight: wArgExfilURL, msg: "an argument's URL carries data out: " + why, path: path, span: spanOf(m[0], m[1])})
		}
		if u, err := url.Parse(raw); err == nil && isCaptureHost(strings.ToLower(u.Hostname())) {
			fs = append(fs, finding{code: "exfil-url:capture-host", weight: wArgCaptureURL, msg: "an argument's URL points at a request-capture or paste service", path: path, span: spanOf(m[0], m[1])})
		}
	}
	return fs
}

// ToolCallRequest is the Tool Call Guard's pre-call hook (tool_request,
// ABI 1.2): it judges a call's arguments before the upstream runs it —
// credentials in any argument, command injection when the tool is
// shell-like (the answer hook's argument rules), and exfiltration URLs.
func ToolCallRequest(in *guard.Input) guard.Verdict { return toolCallRequest(nil, nil, in) }

func toolCallRequest(memo *Purposes, v *View, in *guard.Input) guard.Verdict {
	if in == nil {
		return guard.Allow()
	}
	args := v.arguments(in.Arguments)
	fs := callArguments(memo, in, args)
	if !args.all {
		// Padding past the rules' bounds must not hide a payload: what
		// is not scanned is reported (flag at medium, block from high).
		w := wArgUnscanned
		if in.Tool != nil && memo.of(in.Tool).shell {
			w = wArgUnscannedShell // a command line that large is itself suspect
		}
		fs = append(fs, finding{code: "arguments-unscanned", weight: w, msg: "the arguments are too large to be scanned in full", path: "/arguments"})
	}
	for _, f := range args.fields {
		fs = append(fs, scanArgumentURLs(f.value, f.path)...)
	}
	return decide(in, fs, score(fs))
}

// ToolIntentRequest is the Tool Intent Guard's pre-call hook
// (tool_request, ABI 1.2): a call's arguments against the tool's declared
// purpose (the answer hook's argument rules), before the upstream runs it.
func ToolIntentRequest(in *guard.Input) guard.Verdict { return toolIntentRequest(nil, nil, in) }

func toolIntentRequest(memo *Purposes, v *View, in *guard.Input) guard.Verdict {
	if in == nil {
		return guard.Allow()
	}
	fs := intentArguments(memo.of(in.Tool), v, in)
	return decide(in, fs, score(fs))
}

// ToolCallRequest is the package's ToolCallRequest with tools' purposes
// remembered.
func (p *Purposes) ToolCallRequest(in *guard.Input) guard.Verdict { return toolCallRequest(p, nil, in) }

// ToolIntentRequest is the package's ToolIntentRequest with tools'
// purposes remembered.
func (p *Purposes) ToolIntentRequest(in *guard.Input) guard.Verdict {
	return toolIntentRequest(p, nil, in)
}
