package rules

import (
	"math"
	"regexp"
	"strings"
)

// secretRule is one known credential format. group selects the secret
// inside the match (0 = whole match); minEntropy rejects placeholders.
type secretRule struct {
	id         string
	weight     float64
	re         *regexp.Regexp
	group      int
	minEntropy float64
	// keywords (lowercase) gate the expression: it only runs when the
	// text contains one, which keeps 40 rules cheap on clean text.
	keywords []string
}

// secretPrefilter narrows a secret rule's keyword gate. lits
// (case-sensitive) serve expressions written without (?i): the text must
// also contain one of them. pre, when set, is a further necessary
// condition checked in one pass, for an expression with no telling
// literal. Both hold on every match (TestGatesHoldOnEveryMatch).
type secretPrefilter struct {
	lits []string
	pre  func(string) bool
}

// secretPrefilters are by index in secretRules.
var secretPrefilters = func() []secretPrefilter {
	out := make([]secretPrefilter, len(secretRules))
	for i, r := range secretRules {
		out[i].lits = secretLiterals[r.id]
		if r.id == "discord-token" {
			out[i].pre = dottedTriple
		}
	}
	return out
}()

// Provider formats come from the providers' documented token prefixes (the
// same ones gitleaks encodes). Weights: 0.9 for a prefix that is
// practically unique to a credential, 0.7–0.8 for formats that need
// context, 0.55 for the generic key=value rule (flags, never blocks alone).
var secretRules = []secretRule{
	{"private-key", 0.95, regexp.MustCompile(`-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]{64,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----\s*(?:\\n|\n)?[A-Za-z0-9+/=\\\n\r]{64,}`), 0, 0, []string{"private key"}},
	{"aws-access-key", 0.9, regexp.MustCompile(`\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`), 1, 3.0, []string{"akia", "asia", "abia", "acca", "a3t"}},
	{"aws-secret-key", 0.85, regexp.MustCompile(`(?i)\baws_?(?:secret)?_?(?:access)?_?key(?:_id)?\b["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$)`), 1, 4.0, []string{"aws"}},
	{"aws-bedrock-key", 0.9, regexp.MustCompile(`\bABSK[A-Za-z0-9+/]{109,269}={0,2}`), 0, 4.0, []string{"absk"}},
	{"github-token", 0.9, regexp.MustCompile(`\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b|\bgithub_pat_\w{82}\b`), 0, 3.0, []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}},
	{"gitlab-token", 0.9, regexp.MustCompile(`\bgl(?:pat|ptt|dt|rt|cbt|ft|imt|oas|agent|soat)-[0-9a-zA-Z_-]{20,}\b`), 0, 3.0, []string{"glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "glft-", "glimt-", "gloas-", "glagent-", "glsoat-"}},
	{"slack-token", 0.9, regexp.MustCompile(`\bxoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*|\bxox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}|\bxox[os]-\d+-\d+-\d+-[a-fA-F\d]+|\bxoxe\.xox[bp]-\d-[A-Z0-9]{163,166}|\bxoxe-\d-[A-Z0-9]{146}|\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+|\bxox[ar]-(?:\d+-)?[0-9a-zA-Z]{8,48}`), 0, 3.0, []string{"xox", "xapp-"}},
	{"slack-webhook", 0.85, regexp.MustCompile(`(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}`), 0, 0, []string{"hooks.slack.com"}},
	{"stripe-key", 0.9, regexp.MustCompile(`\b(?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99}\b`), 0, 3.0, []string{"_test_", "_live_", "_prod_"}},
	{"google-api-key", 0.9, regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`), 0, 3.5, []string{"aiza"}},
	{"gcp-service-account", 0.85, regexp.MustCompile(`"type"\s*:\s*"service_account"`), 0, 0, []string{"service_account"}},
	{"openai-api-key", 0.9, regexp.MustCompile(`\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{58,74}T3BlbkFJ[A-Za-z0-9_-]{58,74}\b|\bsk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20}\b`), 0, 3.0, []string{"t3blbkfj"}},
	{"anthropic-api-key", 0.9, regexp.MustCompile(`\bsk-ant-(?:api03|admin01)-[a-zA-Z0-9_-]{93}AA\b`), 0, 3.0, []string{"sk-ant-"}},
	{"azure-ad-client-secret", 0.8, regexp.MustCompile(`(?:^|[\\'"\x60\s>=:(,)])([a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34})(?:$|[\\'"\x60\s<),])`), 1, 3.0, []string{"q~"}},
	{"1password-token", 0.9, regexp.MustCompile(`\bops_eyJ[a-zA-Z0-9+/]{250,}={0,3}|\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b`), 0, 3.8, []string{"ops_eyj", "a3-"}},
	{"vault-token", 0.9, regexp.MustCompile(`\bhv[sb]\.[\w-]{90,}`), 0, 3.5, []string{"hvs.", "hvb."}},
	{"npm-token", 0.9, regexp.MustCompile(`(?i)\bnpm_[a-z0-9]{36}\b`), 0, 3.0, []string{"npm_"}},
	{"pypi-token", 0.9, regexp.MustCompile(`\bpypi-AgEIcHlwaS5vcmc[\w-]{50,}`), 0, 0, []string{"pypi-"}},
	{"sendgrid-key", 0.9, regexp.MustCompile(`\bSG\.[\w-]{22}\.[\w-]{43}\b`), 0, 3.0, []string{"sg."}},
	{"digitalocean-token", 0.9, regexp.MustCompile(`\bdo[por]_v1_[a-f0-9]{64}\b`), 0, 3.0, []string{"_v1_"}},
	{"huggingface-token", 0.85, regexp.MustCompile(`\bhf_[a-zA-Z]{34}\b|\bapi_org_[a-zA-Z]{34}\b`), 0, 3.5, []string{"hf_", "api_org_"}},
	{"shopify-token", 0.9, regexp.MustCompile(`\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b`), 0, 3.0, []string{"shpat_", "shpca_", "shppa_", "shpss_"}},
	{"sourcegraph-token", 0.85, regexp.MustCompile(`\bsgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}\b|\bsgp_[a-fA-F0-9]{40}\b`), 0, 3.0, []string{"sgp_"}},
	{"notion-token", 0.85, regexp.MustCompile(`\bntn_[0-9]{11}[A-Za-z0-9]{35}\b`), 0, 3.0, []string{"ntn_"}},
	{"facebook-token", 0.8, regexp.MustCompile(`\bEAA[MC][a-zA-Z0-9]{100,}`), 0, 3.5, []string{"eaam", "eaac"}},
	{"databricks-token", 0.85, regexp.MustCompile(`\bdapi[a-f0-9]{32}(?:-\d)?\b`), 0, 3.0, []string{"dapi"}},
	{"linear-key", 0.85, regexp.MustCompile(`\blin_api_[a-zA-Z0-9]{40}\b`), 0, 3.0, []string{"lin_api_"}},
	{"postman-key", 0.85, regexp.MustCompile(`\bPMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}\b`), 0, 3.0, []string{"pmak-"}},
	{"doppler-token", 0.85, regexp.MustCompile(`\bdp\.pt\.[a-zA-Z0-9]{43}\b`), 0, 3.0, []string{"dp.pt."}},
	{"grafana-token", 0.85, regexp.MustCompile(`\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b|\bglc_[A-Za-z0-9+/]{32,400}={0,2}`), 0, 3.0, []string{"glsa_", "glc_"}},
	{"age-secret-key", 0.9, regexp.MustCompile(`\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b`), 0, 0, []string{"age-secret-key-1"}},
	{"atlassian-token", 0.85, regexp.MustCompile(`\bATATT3[A-Za-z0-9_\-=]{186}`), 0, 3.5, []string{"atatt3"}},
	{"octopus-deploy-key", 0.8, regexp.MustCompile(`\bAPI-[A-Z0-9]{26}\b`), 0, 3.0, []string{"api-"}},
	{"twilio-key", 0.8, regexp.MustCompile(`\bSK[0-9a-fA-F]{32}\b`), 0, 3.0, []string{"sk"}},
	{"telegram-bot-token", 0.8, regexp.MustCompile(`\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b`), 0, 3.0, []string{":aa"}},
	{"discord-token", 0.7, regexp.MustCompile(`\b[MN][A-Za-z\d]{23,25}\.[\w-]{6}\.[\w-]{27,38}\b`), 0, 3.5, []string{"."}},
	{"jwt", 0.7, regexp.MustCompile(`\bey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9/\\_-]{17,}\.[a-zA-Z0-9/\\_-]{10,}={0,2}`), 0, 3.0, []string{"eyj"}},
	{"basic-auth-url", 0.75, regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://([^\s:/@'"]{1,64}):([^\s/@'"]{3,128})@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}`), 2, 0, []string{"://"}},
	{"auth-header", 0.75, regexp.MustCompile(`(?i)\bauthorization\s*:\s*(?:[a-z][a-z-]{1,20}\s+)?([A-Za-z0-9._~+/=:@!*#$%^&-]{8,})|(?:^|["'\s])(?:x-)?(?:api[-_]?(?:key|token)|auth[-_]?token|access[-_]?token|private[-_]?token|token)\s*:\s*["']?([A-Za-z0-9._~+/=-]{8,})`), -1, 2.5, []string{"authorization", "token", "api-key", "api_key", "apikey"}},
	{"curl-user", 0.75, regexp.MustCompile(`\bcurl\b[^\n]{0,200}?\s(?:-u|--user)\s*(\S*:\S*)`), 1, 0, []string{"curl"}},
	// The name is any identifier around a credential word, as gitleaks's
	// generic rule reads it (MCP_PROXY_API_KEY, tavilyApiKey,
	// sessionToken, SECRET_KEY_BASE); genericNameAllowed then drops the
	// names that are not credentials (key_id, public_key, nextPageToken).
	{"generic-secret", 0.55, regexp.MustCompile(`(?i)(?:^|[^\w.-])([\w.-]{0,50}?(?:api[_.-]?key|apikey|secret(?:[_.-]?key)?|client[_.-]?secret|access[_.-]?token|auth[_.-]?token|refresh[_.-]?token|private[_.-]?key|password|passwd|pwd|token|credentials?)[\w.-]{0,20}?)["']?\s*(?:[:=]|:=|=>)\s*["']?([A-Za-z0-9_~+/.=@!#$%^&*-]{12,256})`), 2, 3.3, []string{"key", "secret", "token", "password", "passwd", "pwd", "credential"}},
}

// Placeholder values are documentation, not credentials. Besides the
// project's own list, this includes gitleaks's global allowlist of values:
// true/false/null, template and variable references (${{ secrets.X }},
// @VAR@, {0}) and absolute system paths.
var rePlaceholder = regexp.MustCompile(`(?i)^(?:true|false|null)$|^\$\{\{[ \t]*(?:env|github|secrets|vars)\.|^@[a-z_]+@$|^\{\d{0,2}\}$|^/(?:bin|etc|home|opt|tmp|usr|var|users)/|x{4,}|#{4,}|\[[A-Z_]+\]|here$|randomstring|\*{3,}|\.{3}|example|sample|dummy|placeholder|changeme|your[_-]|<[^>]*>|\$\{|\{\{|^\$[a-z_]+$|%[a-z_]+%|redacted|abcdef|123456|0{6,}|fake|test[_-]?(?:key|token|secret)|^(?:username|user|password|pass|passwd|secret|token):?(?:password|pass|secret)?$`)

// curlCredential reports whether a curl -u/--user value is a real
// user:password (or key:) pair rather than variables or placeholders.
func curlCredential(v string) bool {
	v = strings.Trim(v, `'"{}`)
	v = strings.NewReplacer(`"`, "", `'`, "", "{", "", "}", "").Replace(v)
	i := strings.IndexByte(v, ':')
	if i < 0 {
		return false
	}
	user, pass := v[:i], v[i+1:]
	secret := pass
	if pass == "" {
		secret = user // an API key as the user name, empty password
	}
	if len(secret) < 6 || strings.ContainsAny(secret, "$%[<") || rePlaceholder.MatchString(secret) || reCredWord.MatchString(secret) {
		return false
	}
	return entropy(secret) >= 2.8
}

// reNotCredentialName is a name the generic rule reads around a
// credential word that does not hold a credential. It follows gitleaks's
// generic-api-key allowlist: identifiers, lengths, files, endpoints and
// public halves of a key. It adds names the MCP tools' answers carry:
// pagination and cancellation tokens, token counts and types, password
// policies.
var reNotCredentialName = regexp.MustCompile(`(?i)(?:access[_.-]?id|random[_.-]?access|api[_.-]?(?:id|name|version)|credentials?[_.-]?id|withcredentials|(?:bucket|foreign|hot|idx|natural|primary|pub(?:lic)?|schema|sequence|partition|sort|row|cache|idempotency|dedup(?:e|lication)?|object|s3|map|hash)[_.-]?key|turkey|monkey|key[_.-]?(?:alias|board|code|frame|id|length|mesh|name|pair|press(?:ed)?|ring|selector|signature|size|stone|storetype|word|up|down|left|right|type|hash|fingerprint|prefix)s?\b|key[_.-]?vault[_.-]?(?:id|name)|key(?:store|tab)[_.-]?(?:file|path)|issuerkeyhash|keying|secret[_.-]?(?:length|name|size|ref|arn|id)|usersecretsid|csrf[_.-]?token|xsrf[_.-]?token|(?:api|credentials|token)[_.-]?(?:endpoint|ur[il]|path|host)|public[_.-]?token|(?:key|token|password|secret)[_.-]?(?:file|path|env|var|name)|(?:page|next|prev(?:ious)?|continuation|sync|cancel|cancellation|resume|cursor|pagination|start|end)[_.-]?token|token[_.-]?(?:type|count|limit|usage|budget|ize|iz|s)\b|tokens?[_.-]?(?:count|limit|usage|budget)|(?:max|min|input|output|total|completion|prompt|num|used)[_.-]?tokens?|password[_.-]?(?:policy|length|reset|hint|strength|rules?|expir\w*|min\w*|max\w*))`)

// genericNameAllowed reports whether the generic rule's name part holds
// a credential, i.e. is not one of reNotCredentialName's.
func genericNameAllowed(name string) bool { return !reNotCredentialName.MatchString(name) }

var reCredWord = regexp.MustCompile(`(?i)^(?:password|passwd|pass|pwd|token|secret|apikey|api_key|key|changeme|admin|root|user|username)$`)

type secretMatch struct {
	id     string
	weight float64
	start  int
	end    int
}

// gateSecret reports whether s may hold a match of secretRules[i]: it
// holds one of the rule's keywords (kw is s's keyword scan) and passes
// its prefilter.
func gateSecret(i int, s string, kw keywordsFound) bool {
	if !kw.anyID(kw.m.secretIDs[i]) {
		return false
	}
	p := secretPrefilters[i]
	if len(p.lits) > 0 && !containsAny(s, p.lits) {
		return false
	}
	return p.pre == nil || p.pre(s)
}

func containsAny(s string, lits []string) bool {
	for _, l := range lits {
		if strings.Contains(s, l) {
			return true
		}
	}
	return false
}

// Case-sensitive literals of the expressions written without (?i): the
// keywords are matched case-folded, so "sk" passes on "ask" and "task",
// "api-" on "API-" and "api-docs" alike.
var secretLiterals = map[string][]string{
	"private-key":        {"PRIVATE KEY"},
	"aws-access-key":     {"A3T", "AKIA", "ASIA", "ABIA", "ACCA"},
	"aws-bedrock-key":    {"ABSK"},
	"slack-token":        {"xox", "xapp-"},
	"google-api-key":     {"AIza"},
	"openai-api-key":     {"T3BlbkFJ"},
	"1password-token":    {"ops_eyJ", "A3-"},
	"pypi-token":         {"pypi-AgEIcHlwaS5vcmc"},
	"sendgrid-key":       {"SG."},
	"facebook-token":     {"EAAM", "EAAC"},
	"postman-key":        {"PMAK-"},
	"age-secret-key":     {"AGE-SECRET-KEY-1"},
	"atlassian-token":    {"ATATT3"},
	"octopus-deploy-key": {"API-"},
	"twilio-key":         {"SK"},
	"telegram-bot-token": {":AA"},
}

// dottedTriple is the discord-token expression's necessary shape (its
// keyword is "." alone, in nearly every text): two dots seven bytes apart
// with six [\w-] bytes between them.
func dottedTriple(s string) bool {
	for i := strings.IndexByte(s, '.'); i >= 0 && i+7 < len(s); {
		if s[i+7] == '.' && allWordOrDash(s[i+1:i+7]) {
			return true
		}
		j := strings.IndexByte(s[i+1:], '.')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

func allWordOrDash(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isASCIILetter(c) || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// scanSecrets returns credential matches in s (at most 32).
func scanSecrets(s string) []secretMatch { return scanSecretsIn(s, gateKeywords().scan(s)) }

// scanSecretsIn is scanSecrets with s's keyword scan already made.
func scanSecretsIn(s string, kw keywordsFound) []secretMatch {
	if kw.m.secretAt != nil && !kw.secret {
		return nil // no secret rule's keyword: every gate is shut
	}
	var out []secretMatch
	for i, r := range secretRules {
		if !gateSecret(i, s, kw) {
			continue
		}
		for _, m := range r.re.FindAllStringSubmatchIndex(s, 8) {
			gs, ge := m[0], m[1]
			switch {
			case r.group > 0 && m[2*r.group] >= 0:
				gs, ge = m[2*r.group], m[2*r.group+1]
			case r.group < 0: // the first group that matched
				for g := 1; 2*g < len(m); g++ {
					if m[2*g] >= 0 {
						gs, ge = m[2*g], m[2*g+1]
						break
					}
				}
			}
			v := s[gs:ge]
			if r.id == "curl-user" && !curlCredential(v) {
				continue
			}
			if rePlaceholder.MatchString(v) || lowVariety(v) {
				continue
			}
			if r.minEntropy > 0 && entropy(v) < r.minEntropy {
				continue
			}
			if r.id == "generic-secret" && (!hasDigit(v) || overlapsAny(out, gs, ge) || !genericNameAllowed(s[m[2]:m[3]])) {
				continue
			}
			if r.id == "auth-header" && !hasDigit(v) && !strings.ContainsAny(v, "=+/") {
				continue
			}
			out = append(out, secretMatch{r.id, r.weight, gs, ge})
			if len(out) >= 32 {
				return out
			}
		}
	}
	return out
}

func overlapsAny(ms []secretMatch, s, e int) bool {
	for _, m := range ms {
		if s < m.end && m.start < e {
			return true
		}
	}
	return false
}

// matchSecret reports the first credential format v contains.
func matchSecret(v string) (string, bool) {
	ms := scanSecrets(v)
	if len(ms) == 0 {
		return "", false
	}
	return ms[0].id, true
}

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	h, n := 0.0, float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}

// lowVariety rejects values made of very few distinct characters.
func lowVariety(s string) bool {
	var seen [256]bool
	n := 0
	for i := 0; i < len(s); i++ {
		if !seen[s[i]] {
			seen[s[i]] = true
			n++
		}
	}
	return n < 5
}
