package redirect

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// ErrInvalidRule is returned for a list entry that cannot be a rule; it
// wraps the reason (a *RefusedError when the URI itself is unsafe).
var ErrInvalidRule = errors.New("invalid redirect rule")

// Pattern is a list entry in normal form: an exact URI, or a wildcard
// host pattern "https://*.example.com/cb" whose '*' stands for exactly one
// host label.
type Pattern struct {
	// Text is the normal form, "*" kept ("https://*.example.com/cb").
	Text string
	// Wildcard is set for a wildcard pattern; Key is then the URI with
	// the wildcard label removed ("https://example.com/cb"), else the
	// exact URI.
	Wildcard bool
	Key      string
}

// wildcardProbe stands for '*' while a wildcard pattern is normalised:
// one ordinary label.
const wildcardProbe = "wildcard-label"

// ParsePattern checks and normalises a list entry. A wildcard is allowed
// only as the whole leftmost host label of an https URI, once, over a
// domain that is not itself a public suffix (so not "*.com",
// "*.co.uk" or "*.github.io"); '*' anywhere else is refused. Path and
// query are exact in both kinds.
func ParsePattern(s string) (Pattern, error) {
	n := strings.Count(s, "*")
	if n == 0 {
		u, err := Normalize(s)
		if err != nil {
			return Pattern{}, fmt.Errorf("%w: this URI is always blocked: %w", ErrInvalidRule, err)
		}
		return Pattern{Text: u.String(), Key: u.String()}, nil
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !strings.EqualFold(scheme, "https") {
		return Pattern{}, fmt.Errorf("%w: a wildcard is allowed only in an https host (https://*.example.com/cb)", ErrInvalidRule)
	}
	if n > 1 || !strings.HasPrefix(rest, "*.") {
		return Pattern{}, fmt.Errorf("%w: '*' must be the whole leftmost host label, once (https://*.example.com/cb); never in the scheme, path or query", ErrInvalidRule)
	}
	u, err := Normalize("https://" + wildcardProbe + rest[1:])
	if err != nil {
		return Pattern{}, fmt.Errorf("%w: %w", ErrInvalidRule, err)
	}
	if u.IP || u.Loopback {
		return Pattern{}, fmt.Errorf("%w: a wildcard needs a domain name, not an IP address or localhost", ErrInvalidRule)
	}
	parent := strings.TrimPrefix(u.Host, wildcardProbe+".")
	if suffix, _ := publicsuffix.PublicSuffix(parent); suffix == parent {
		return Pattern{}, fmt.Errorf("%w: *.%s would match domains anyone can register (%s is a public suffix)", ErrInvalidRule, parent, parent)
	}
	key := u
	key.Host = parent
	text := u
	text.Host = "*." + parent
	return Pattern{Text: text.String(), Wildcard: true, Key: key.String()}, nil
}

// wildcardKey is the key a URI's wildcard rules are found under: its
// host without the leftmost label, when that label is one a wildcard may
// stand for (ASCII letters, digits and hyphens, not an IDN label; not an
// IP address, not loopback, https only).
func wildcardKey(u URI) (string, bool) {
	if u.Scheme != "https" || u.IP || u.Loopback {
		return "", false
	}
	label, parent, ok := strings.Cut(u.Host, ".")
	if !ok || strings.HasPrefix(label, "xn--") || !strings.Contains(parent, ".") {
		return "", false
	}
	u.Host = parent
	return u.String(), true
}

// listIndex finds a list's rules by key: exact URIs and wildcard parents
// are two maps, so a decision is two lookups whatever the list's length.
type listIndex struct {
	exact map[string]*Rule
	wild  map[string]*Rule
}

func (x *listIndex) add(p Pattern, r *Rule) {
	if p.Wildcard {
		x.wild[p.Key] = r
	} else {
		x.exact[p.Key] = r
	}
}

func (x *listIndex) match(u URI) *Rule {
	if r, ok := x.exact[u.String()]; ok {
		return r
	}
	if k, ok := wildcardKey(u); ok {
		if r, ok := x.wild[k]; ok {
			return r
		}
	}
	return nil
}

// matcher is the compiled rule lists: built once per change, read by
// every decision without a lock.
type matcher struct {
	blocked, allowed listIndex
}

func compile(rules []Rule) (*matcher, error) {
	m := &matcher{
		blocked: listIndex{exact: map[string]*Rule{}, wild: map[string]*Rule{}},
		allowed: listIndex{exact: map[string]*Rule{}, wild: map[string]*Rule{}},
	}
	for i := range rules {
		r := &rules[i]
		p, err := ParsePattern(r.URI)
		if err != nil {
			return nil, fmt.Errorf("rule %s (%s): %w", r.ID, r.URI, err)
		}
		switch r.List {
		case ListBlocked:
			m.blocked.add(p, r)
		case ListAllowed:
			m.allowed.add(p, r)
		default:
			return nil, fmt.Errorf("rule %s: unknown list %q", r.ID, r.List)
		}
	}
	return m, nil
}

// verdict is what the lists say of a normalised URI: blocked wins, then
// allowed; nil rule means neither.
func (m *matcher) verdict(u URI) (Outcome, *Rule) {
	if r := m.blocked.match(u); r != nil {
		return Blocked, r
	}
	if r := m.allowed.match(u); r != nil {
		return Allowed, r
	}
	return Pending, nil
}
