package rules

import (
	"net/url"
	"regexp"
	"strings"
)

// Weights of the exfiltration-URL rule: an image is fetched by the client
// without a click, a link needs one.
const (
	wExfilImage    = 0.8
	wExfilLink     = 0.55
	wExfilTemplate = 0.75
)

var (
	reMDImage   = regexp.MustCompile(`!\[[^\]\n]{0,512}\]\(\s*<?(https?://[^\s)>]+)`)
	reMDRefDef  = regexp.MustCompile(`(?m)^\s{0,3}\[[^\]\n]{1,128}\]:\s*<?(https?://\S+?)>?(?:\s|$)`)
	reHTMLImage = regexp.MustCompile(`(?i)<(?:img|image|source|video|audio|iframe|embed|object|link|script)\b[^>]{0,512}?\b(?:src|href|data|srcset|poster)\s*=\s*["']?(https?://[^"'\s>]+)`)
	reCSSURL    = regexp.MustCompile(`(?i)url\(\s*["']?(https?://[^"')\s]+)`)
	reMDLink    = regexp.MustCompile(`(?:^|[^!])\[[^\]\n]{0,512}\]\(\s*<?(https?://[^\s)>]+)`)
	// Placeholders that ask the model to fill in data: {conversation},
	// $SECRET, <user_data>, [DATA], {{history}}.
	reURLTemplate = regexp.MustCompile(`(?i)(?:\{\{?|\$\{?|<|\[|%7b)\s*(?:[a-z_]*_)?(?:data|secret|secrets|conversation|chat|history|context|summary|message|messages|content|password|token|key|api_key|apikey|creds|credentials|email|user|info|memory|prompt|query|env|cookie|session|ssn|pii|file|notes?)(?:_[a-z_]*)?\s*(?:\}\}?|>|\]|%7d)`)
	// Query parameter names that announce what they carry.
	reLeakParam   = regexp.MustCompile(`(?i)^(?:d|data|dat|payload|p|leak|exfil|x|c|content|secret|secrets|token|tok|key|apikey|api_key|pwd|pass|password|creds?|credentials?|session|sess|cookie|cookies|ssn|pii|conversation|conv|chat|history|hist|memory|mem|context|ctx|summary|msg|message|info|stolen|env|email|mail|user|u|b64|base64|hex|blob|log|logs|prompt|text|t)$`)
	reSecretWords = regexp.MustCompile(`(?i)\b(?:password|passwd|pwd|secret|token|api[ _-]?key|ssn|credit\s+card|pin)\b`)
	reB64ish      = regexp.MustCompile(`^[A-Za-z0-9+/_=-]{16,}$`)
)

// scanExfilURLsIf finds, when maybe (the text's keyword scan found
// "http", which every URL it checks holds), URLs in images, links and templates whose query or
// path carries data: readable text under base64/hex, credentials,
// placeholders for the model to fill, or natural language in an image URL.
func scanExfilURLsIf(maybe bool, text, path string) []finding {
	if !maybe {
		return nil
	}
	return scanExfilURLs(text, path)
}

// scanExfilURLs is scanExfilURLsIf(true, …).
func scanExfilURLs(text, path string) []finding {
	if !strings.Contains(text, "http") {
		return nil
	}
	var fs []finding
	seen := map[int]bool{}
	check := func(re *regexp.Regexp, image bool) {
		for _, m := range re.FindAllStringSubmatchIndex(text, 64) {
			s, e := m[2], m[3]
			if seen[s] {
				continue
			}
			seen[s] = true
			raw := text[s:e]
			why, template := urlCarriesData(raw, image)
			if why == "" {
				continue
			}
			f := finding{code: "exfil-url", path: path, span: spanOf(s, e)}
			switch {
			case template:
				f.weight, f.msg = wExfilTemplate, "URL template asks for data to be filled in and fetched: "+why
			case image:
				f.weight, f.msg = wExfilImage, "image URL (fetched without a click) carries data: "+why
			default:
				f.weight, f.msg = wExfilLink, "link URL carries data: "+why
			}
			fs = append(fs, f)
		}
	}
	check(reMDImage, true)
	check(reHTMLImage, true)
	check(reCSSURL, true)
	check(reMDRefDef, false)
	check(reMDLink, false)
	return fs
}

// urlCarriesData explains why raw looks like it smuggles data out, or
// returns "". template is true for placeholder URLs.
func urlCarriesData(raw string, image bool) (why string, template bool) {
	if m := reURLTemplate.FindString(raw); m != "" && (strings.ContainsAny(m, "{$<[") || strings.Contains(strings.ToLower(m), "%7b")) {
		return "placeholder " + m, true
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	// Path segments carrying encoded text.
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		if len(seg) < 16 {
			continue
		}
		v, _ := url.PathUnescape(seg)
		if w := dataValue(v); w != "" {
			return "path segment " + w, false
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", false
	}
	for name, vals := range q {
		for _, v := range vals {
			if w := dataValue(v); w != "" {
				return "parameter " + name + " " + w, false
			}
			if reLeakParam.MatchString(name) && len(v) >= 8 && (image && !allLetters(v) || secretLike(v) || reSecretWords.MatchString(v)) && !looksLikeFilename(v) && !badgeToken(u, name) {
				return "parameter " + name + " carries a value", false
			}
			if image && len(v) >= 24 && strings.Count(v, " ") >= 3 {
				return "parameter " + name + " carries prose", false
			}
		}
	}
	return "", false
}

// dataValue explains why one URL value looks like smuggled data.
func dataValue(v string) string {
	if len(v) < 16 {
		return ""
	}
	if _, ok := matchSecret(v); ok {
		return "contains a credential"
	}
	if reB64ish.MatchString(v) && mixedCase(v) {
		if _, ok := decodeBase64Text(v); ok {
			return "is base64 of readable text"
		}
	}
	if isHexOnly(v) && len(v)%2 == 0 && len(v) >= 24 {
		if es := findEncoded(v); len(es) > 0 {
			return "is hex of readable text"
		}
	}
	return ""
}

// badgeToken reports a token parameter of a README status badge
// (codecov's graph/badge.svg?token=…): a read-only token the service
// publishes for embedding, on an image that only renders a badge. What
// dataValue finds in it (a credential, encoded text) still counts.
func badgeToken(u *url.URL, name string) bool {
	if !strings.EqualFold(name, "token") {
		return false
	}
	p := strings.ToLower(u.Path)
	return strings.Contains(strings.ToLower(u.Host)+p, "badge") && (strings.HasSuffix(p, ".svg") || strings.HasSuffix(p, ".png"))
}

// secretLike reports a high-entropy token of at least 16 characters.
func secretLike(v string) bool {
	return len(v) >= 16 && !strings.ContainsAny(v, " /") && entropy(v) >= 3.5 && hasDigit(v) && mixedCase(v)
}

func looksLikeFilename(v string) bool {
	i := strings.LastIndexByte(v, '.')
	return i > 0 && len(v)-i <= 5 && !strings.ContainsAny(v, " =")
}

func allLetters(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isASCIILetter(v[i]) {
			return false
		}
	}
	return true
}
