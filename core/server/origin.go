package server

import (
	"net/url"
	"strings"
)

// originPolicy implements the Streamable HTTP DNS-rebinding protection: a
// request that carries an Origin must come from a loopback origin, the
// gateway's public origin or one an admin allowed. The Host header is not
// trusted: under DNS rebinding the attacker's page and Host agree.
// Requests without Origin (non-browser clients) pass.
type originPolicy struct {
	allowed map[string]bool
}

func newOriginPolicy(extra []string) originPolicy {
	p := originPolicy{allowed: make(map[string]bool, len(extra))}
	for _, o := range extra {
		if u, err := url.Parse(strings.ToLower(strings.TrimSpace(o))); err == nil && u.Host != "" {
			p.allowed[u.Scheme+"://"+u.Host] = true
		}
	}
	return p
}

// check reports whether a browser at origin may call the gateway.
func (p originPolicy) check(origin string) bool {
	if origin == "" {
		return true
	}
	u, err := url.Parse(strings.ToLower(origin))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return false
	}
	if p.allowed[u.Scheme+"://"+u.Host] {
		return true
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}
