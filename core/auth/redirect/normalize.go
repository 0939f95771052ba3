package redirect

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// MaxURILength bounds a redirect URI, in bytes. Browsers and servers
// disagree past a few kilobytes; a callback needs far less.
const MaxURILength = 2048

// Class names the kind of trick or fault a refused URI showed, for the
// audit log and tests.
type Class string

// The classes of URIs refused before any list is consulted.
const (
	ClassSyntax    Class = "syntax"    // empty, too long, not UTF-8, controls, backslashes, not hierarchical
	ClassFragment  Class = "fragment"  // '#': OAuth forbids fragments in redirect URIs
	ClassScheme    Class = "scheme"    // javascript:, data:, file: and the like
	ClassDowngrade Class = "downgrade" // http to anything but loopback
	ClassUserinfo  Class = "userinfo"  // https://good.com@evil.com
	ClassHost      Class = "host"      // malformed, encoded, odd IP forms, trailing dots
	ClassIDN       Class = "idn"       // bad punycode, mapped characters, mixed scripts, confusables
	ClassPort      Class = "port"      // not a port number
	ClassPath      Class = "path"      // dot segments, encoded slashes, empty segments, raw non-ASCII
	ClassQuery     Class = "query"     // malformed, or carrying OAuth response parameters
	ClassChain     Class = "chain"     // a URL inside the query: open-redirect chaining
)

// RefusedError is a redirect URI that is unsafe by construction: it is
// Blocked whatever the lists say.
type RefusedError struct {
	Class  Class
	Reason string
}

func (e *RefusedError) Error() string { return e.Reason }

func refuse(c Class, format string, args ...any) error {
	return &RefusedError{Class: c, Reason: fmt.Sprintf(format, args...)}
}

// ClassOf returns the class of a refusal, "" when err is not one.
func ClassOf(err error) Class {
	var r *RefusedError
	if errors.As(err, &r) {
		return r.Class
	}
	return ""
}

// URI is a redirect URI in normal form. Two URIs that reach the same
// callback have the same String; a URI that could be read two ways was
// refused instead.
type URI struct {
	Scheme string // lower case
	// Host is lower case, IDN labels as A-labels (xn--), IPv6 in
	// brackets; "" for a private-use scheme without authority.
	Host string
	// Port is "" for the scheme's default port and for loopback hosts
	// (any port matches, RFC 8252 §7.3).
	Port     string
	Path     string // percent-encoding normalised; "/" at least for http(s)
	Query    string // without '?'; "" for none
	Loopback bool   // 127.0.0.1, [::1] or localhost
	IP       bool   // the host is an IP literal
	IDN      bool   // some host label is internationalised
	Custom   bool   // a private-use scheme (com.example.app:/cb)
}

// String is the normal form: the key rules and pending approvals use.
func (u URI) String() string {
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteByte(':')
	if u.Host != "" {
		b.WriteString("//")
		b.WriteString(u.Host)
		if u.Port != "" {
			b.WriteByte(':')
			b.WriteString(u.Port)
		}
	}
	b.WriteString(u.Path)
	if u.Query != "" {
		b.WriteByte('?')
		b.WriteString(u.Query)
	}
	return b.String()
}

// unsafeSchemes can never receive an authorization code: they run code,
// read local data, or are not callbacks at all.
var unsafeSchemes = map[string]bool{
	"javascript": true, "vbscript": true, "data": true, "file": true, "blob": true,
	"about": true, "filesystem": true, "view-source": true, "jar": true,
	"ftp": true, "ftps": true, "sftp": true, "ws": true, "wss": true,
	"mailto": true, "tel": true, "sms": true, "gopher": true, "telnet": true,
	"ldap": true, "ldaps": true, "news": true, "nntp": true, "urn": true,
	"intent": true, "content": true, "res": true, "resource": true,
}

// Normalize parses a redirect URI and returns its normal form, or a
// *RefusedError when the URI is unsafe by construction (docs/oauth-redirects.md
// lists every check). Normalize(Normalize(x).String()) is Normalize(x).
func Normalize(raw string) (URI, error) {
	if err := checkRaw(raw); err != nil {
		return URI{}, err
	}
	colon := strings.IndexByte(raw, ':')
	if colon <= 0 {
		return URI{}, refuse(ClassSyntax, "it has no scheme (https://…)")
	}
	scheme := strings.ToLower(raw[:colon])
	if !validScheme(scheme) {
		return URI{}, refuse(ClassSyntax, "its scheme %q is not a URI scheme", truncate(raw[:colon], 40))
	}
	if unsafeSchemes[scheme] {
		return URI{}, refuse(ClassScheme, "the %s: scheme can never receive an authorization code", scheme)
	}
	rest := raw[colon+1:]
	u := URI{Scheme: scheme, Custom: scheme != "https" && scheme != "http"}

	var authority, pathQuery string
	hasAuthority := strings.HasPrefix(rest, "//")
	if hasAuthority {
		rest = rest[2:]
		end := strings.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		authority, pathQuery = rest[:end], rest[end:]
	} else {
		pathQuery = rest
	}
	path, query, _ := strings.Cut(pathQuery, "?")

	switch {
	case !u.Custom && (!hasAuthority || authority == ""):
		return URI{}, refuse(ClassHost, "it has no host")
	case u.Custom && !hasAuthority && !strings.HasPrefix(path, "/"):
		return URI{}, refuse(ClassSyntax, "a private-use scheme URI must be %s:/path or %s://host/path", scheme, scheme)
	}
	if hasAuthority {
		if err := u.setAuthority(authority); err != nil {
			return URI{}, err
		}
	}
	if u.Scheme == "http" && !u.Loopback {
		return URI{}, refuse(ClassDowngrade, "http is allowed only for loopback (127.0.0.1, [::1], localhost); use https")
	}
	var err error
	if u.Path, err = normalizePath(path, hasAuthority); err != nil {
		return URI{}, err
	}
	if u.Query, err = normalizeQuery(query); err != nil {
		return URI{}, err
	}
	return u, nil
}

// checkRaw refuses what no part of a redirect URI may hold.
func checkRaw(raw string) error {
	switch {
	case raw == "":
		return refuse(ClassSyntax, "the redirect URI is empty")
	case len(raw) > MaxURILength:
		return refuse(ClassSyntax, "it is longer than %d bytes", MaxURILength)
	case !utf8.ValidString(raw):
		return refuse(ClassSyntax, "it is not valid UTF-8")
	}
	for _, r := range raw {
		switch {
		case r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\u00a0' || r == '\ufeff' || (r >= '\u2000' && r <= '\u200f') || (r >= '\u2028' && r <= '\u202e') || (r >= '\u2060' && r <= '\u206f'):
			return refuse(ClassSyntax, "it contains a space, control or invisible character (U+%04X)", r)
		case r == '\\':
			return refuse(ClassSyntax, "it contains a backslash, which browsers read as a slash")
		case r == '#':
			return refuse(ClassFragment, "it has a fragment (#…), which OAuth forbids in redirect URIs")
		}
	}
	return nil
}

// validScheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1),
// already lower case.
func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return len(s) <= 64
}

// setAuthority checks and normalises host and port.
func (u *URI) setAuthority(a string) error {
	if strings.ContainsRune(a, '@') {
		return refuse(ClassUserinfo, "it has userinfo (user@host): the host is what follows the '@', not what precedes it")
	}
	if strings.ContainsRune(a, '%') {
		return refuse(ClassHost, "its host is percent-encoded; hosts never need it (IDN hosts use punycode)")
	}
	host, port := a, ""
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return refuse(ClassHost, "its IPv6 host has no closing ']'")
		}
		host, port = a[:end+1], a[end+1:]
		if port != "" && port[0] != ':' {
			return refuse(ClassHost, "characters follow its IPv6 host")
		}
	} else if i := strings.LastIndexByte(a, ':'); i >= 0 {
		host, port = a[:i], a[i:]
	}
	port = strings.TrimPrefix(port, ":")
	if err := u.setHost(host); err != nil {
		return err
	}
	return u.setPort(port)
}

func (u *URI) setHost(h string) error {
	if h == "" {
		return refuse(ClassHost, "it has no host")
	}
	if strings.HasPrefix(h, "[") {
		addr, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return refuse(ClassHost, "its host %q is not an IPv6 address", truncate(h, 64))
		}
		u.Host, u.IP, u.Loopback = "["+addr.String()+"]", true, addr == netip.IPv6Loopback()
		return nil
	}
	ascii := true
	for i := 0; i < len(h); i++ {
		if h[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		// Registration refuses every character IDNA would map to another
		// (full-width letters, ideographic dots, upper case): a host that
		// has to be rewritten to be read is a disguise.
		a, err := idna.Registration.ToASCII(asciiLower(h))
		if err != nil {
			return refuse(ClassIDN, "its host %q is not a valid internationalised name (characters that stand for others, or disallowed ones)", truncate(h, 64))
		}
		h = a
	}
	h = strings.ToLower(h)
	if strings.HasSuffix(h, ".") {
		return refuse(ClassHost, "its host ends in a dot; register it without")
	}
	if len(h) > 253 {
		return refuse(ClassHost, "its host is longer than 253 characters")
	}
	labels := strings.Split(h, ".")
	last := labels[len(labels)-1]
	if numericLabel(last) {
		addr, err := netip.ParseAddr(h)
		if err != nil || !addr.Is4() || addr.String() != h {
			return refuse(ClassHost, "its host %q is an IP address in a non-standard form; write it as four decimal numbers", truncate(h, 64))
		}
		u.Host, u.IP, u.Loopback = h, true, h == "127.0.0.1"
		return nil
	}
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return err
		}
		if strings.HasPrefix(l, "xn--") {
			u.IDN = true
		}
	}
	if u.IDN {
		if err := checkIDN(h); err != nil {
			return err
		}
	}
	u.Host, u.Loopback = h, h == "localhost"
	return nil
}

// asciiLower lower-cases ASCII letters only: ASCII case is not a
// disguise, while any other mapping is refused by IDNA registration.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// numericLabel reports whether a last label makes browsers read the host
// as IPv4 (WHATWG URL: digits, or 0x and hex digits).
func numericLabel(l string) bool {
	if l == "" {
		return false
	}
	if strings.HasPrefix(l, "0x") {
		return true
	}
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			return false
		}
	}
	return true
}

// checkLabel: 1-63 letters, digits and hyphens, no hyphen at either end.
func checkLabel(l string) error {
	if l == "" {
		return refuse(ClassHost, "its host has an empty label (two dots in a row, or a leading dot)")
	}
	if len(l) > 63 {
		return refuse(ClassHost, "its host has a label longer than 63 characters")
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return refuse(ClassHost, "its host label %q starts or ends with a hyphen", l)
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return refuse(ClassHost, "its host has the character %q, which host names cannot hold", string(c))
		}
	}
	return nil
}

func (u *URI) setPort(p string) error {
	if p == "" {
		u.Port = ""
		return nil
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return refuse(ClassPort, "its port %q is not a number", truncate(p, 16))
		}
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || len(p) > 5 {
		return refuse(ClassPort, "its port %q is not between 1 and 65535", truncate(p, 16))
	}
	switch {
	case u.Loopback:
		u.Port = "" // any port, RFC 8252 §7.3
	case u.Scheme == "https" && n == 443, u.Scheme == "http" && n == 80:
		u.Port = ""
	default:
		u.Port = strconv.Itoa(n)
	}
	return nil
}

// pathChars and queryChars are what RFC 3986 lets stand unencoded
// (pchar, plus '/' and, in the query, '?'); everything else must be
// percent-encoded.
func pathChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0
}

func unreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// normalizeEscapes checks the characters of a path or query and
// normalises its percent-encoding (RFC 3986 §6.2.2: unreserved characters
// decoded, hex digits upper case). It refuses encoded controls, and in
// paths encoded slashes and backslashes, which servers read differently,
// and an encoded '%' before two hex digits (double encoding; in a query
// that is a value's business, and normalizeQuery decodes it fully).
func normalizeEscapes(s string, class Class, query bool) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) {
				return "", refuse(class, "it has an incomplete percent-escape")
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", refuse(class, "it has an invalid percent-escape %q", s[i:i+3])
			}
			d := hi<<4 | lo
			switch {
			case d < 0x20 || d == 0x7f:
				return "", refuse(class, "it has an encoded control character (%%%02X)", d)
			case !query && (d == '/' || d == '\\'):
				return "", refuse(ClassPath, "its path has an encoded slash or backslash (%%%02X), which servers read differently", d)
			case unreserved(d):
				b.WriteByte(d)
			default:
				fmt.Fprintf(&b, "%%%02X", d)
			}
			i += 2
		case pathChar(c), query && c == '?':
			b.WriteByte(c)
		case c >= 0x80:
			return "", refuse(class, "it has non-ASCII characters outside the host; percent-encode them")
		default:
			return "", refuse(class, "it has the character %q, which must be percent-encoded", string(c))
		}
	}
	out := b.String()
	// Checked on the result: "%250%30" becomes "%2500".
	if !query {
		for i := strings.Index(out, "%25"); i >= 0 && i+4 < len(out); i = nextIndex(out, "%25", i+3) {
			if isHex(out[i+3]) && isHex(out[i+4]) {
				return "", refuse(class, "it is percent-encoded twice (%s)", out[i:i+5])
			}
		}
	}
	return out, nil
}

// nextIndex is strings.Index of sub in s from from on, or -1.
func nextIndex(s, sub string, from int) int {
	if j := strings.Index(s[from:], sub); j >= 0 {
		return from + j
	}
	return -1
}

func isHex(c byte) bool { _, ok := unhex(c); return ok }

// normalizePath refuses dot segments (in any encoding), empty segments
// but a trailing one, and Tomcat-style "..;" parameters: a path that
// would be resolved differently by different servers.
func normalizePath(p string, hasAuthority bool) (string, error) {
	if p == "" && hasAuthority {
		return "/", nil
	}
	n, err := normalizeEscapes(p, ClassPath, false)
	if err != nil {
		return "", err
	}
	segs := strings.Split(n, "/")
	for i, s := range segs[1:] {
		head, _, _ := strings.Cut(s, ";")
		switch {
		case head == "." || head == "..":
			return "", refuse(ClassPath, "its path has a dot segment (%q): path traversal", s)
		case s == "" && i != len(segs)-2:
			return "", refuse(ClassPath, "its path has an empty segment (//), which some servers read as a host")
		}
	}
	return n, nil
}

// responseParams are set by the authorization server on the redirect: a
// redirect URI that already carries one could mix a forged value with
// the real one.
var responseParams = map[string]bool{
	"code": true, "state": true, "iss": true, "error": true, "error_description": true,
	"error_uri": true, "access_token": true, "id_token": true, "token_type": true, "expires_in": true,
}

// normalizeQuery normalises the query and refuses response parameters and
// URLs in any parameter (open-redirect chaining).
func normalizeQuery(q string) (string, error) {
	if q == "" {
		return "", nil
	}
	n, err := normalizeEscapes(q, ClassQuery, true)
	if err != nil {
		return "", err
	}
	for _, param := range strings.FieldsFunc(n, func(r rune) bool { return r == '&' || r == ';' }) {
		name, value, _ := strings.Cut(param, "=")
		dn, dv := decodeFully(name), decodeFully(value)
		if responseParams[strings.ToLower(dn)] {
			return "", refuse(ClassQuery, "its query sets %q, a parameter the authorization server adds to the redirect", dn)
		}
		if looksLikeURL(dn) || looksLikeURL(dv) {
			return "", refuse(ClassChain, "its query carries a URL (%q): a second redirect could chain through it (open redirect)", truncate(dv, 64))
		}
	}
	return n, nil
}

// decodeFully undoes percent-encoding (and '+') until nothing changes,
// at most four rounds: what the last server in a chain of redirects would
// see.
func decodeFully(s string) string {
	for range 4 {
		d := decodeOnce(s)
		if d == s {
			break
		}
		s = d
	}
	return s
}

func decodeOnce(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '+':
			b.WriteByte(' ')
		case s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			hi, _ := unhex(s[i+1])
			lo, _ := unhex(s[i+2])
			b.WriteByte(hi<<4 | lo)
			i += 2
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// looksLikeURL reports whether a decoded query value could send a
// browser elsewhere: anything with "://", a scheme-relative "//" or "/\",
// a backslash, or a known scheme followed by ':' ("https:evil.com",
// "javascript:…").
func looksLikeURL(v string) bool {
	v = strings.ToLower(strings.TrimLeft(v, " \t\r\n"))
	if strings.Contains(v, "://") || strings.Contains(v, ":/\\") || strings.HasPrefix(v, "//") || strings.HasPrefix(v, "/\\") || strings.ContainsRune(v, '\\') {
		return true
	}
	if scheme, _, ok := strings.Cut(v, ":"); ok {
		return scheme == "http" || scheme == "https" || unsafeSchemes[scheme]
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
