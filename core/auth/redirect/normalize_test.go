package redirect

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeWritesOneFormForEachCallback(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://Good.COM/cb", "https://good.com/cb"},
		{"HTTPS://good.com:443/cb", "https://good.com/cb"},
		{"https://good.com:/cb", "https://good.com/cb"},
		{"https://good.com:08443/cb", "https://good.com:8443/cb"},
		{"https://good.com", "https://good.com/"},
		{"https://good.com?x=1", "https://good.com/?x=1"},
		{"https://good.com/cb?", "https://good.com/cb"},
		{"https://good.com/%7Euser/%41%2a%c3%a9", "https://good.com/~user/A%2A%C3%A9"},
		{"https://good.com/cb?q=%2f%41", "https://good.com/cb?q=%2FA"},
		{"https://good.com/cb/", "https://good.com/cb/"},
		{"http://127.0.0.1:1234/cb", "http://127.0.0.1/cb"},
		{"http://LOCALHOST:1/cb", "http://localhost/cb"},
		{"http://[0::1]:80/cb", "http://[::1]/cb"},
		{"https://[2001:DB8::1]:443/cb", "https://[2001:db8::1]/cb"},
		{"https://bücher.de/cb", "https://xn--bcher-kva.de/cb"},
		{"https://XN--BCHER-KVA.de/cb", "https://xn--bcher-kva.de/cb"},
		{"https://Bücher.DE/cb", "https://xn--bcher-kva.de/cb"},
		{"com.Example.App:/cb", "com.example.app:/cb"},
		{"cursor://Anysphere.cursor-retrieval/oauth/cb", "cursor://anysphere.cursor-retrieval/oauth/cb"},
		{"com.example.app://host:1234/cb", "com.example.app://host:1234/cb"},
		{"https://日本語.jp/cb", "https://xn--wgv71a119e.jp/cb"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := Normalize(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if u.String() != tt.want {
				t.Fatalf("got %q, want %q", u.String(), tt.want)
			}
			again, err := Normalize(u.String())
			if err != nil || again != u {
				t.Fatalf("not idempotent: %q → %+v, %v", u.String(), again, err)
			}
		})
	}
}

func TestRefusalsAreTypedAndSayWhy(t *testing.T) {
	_, err := Normalize("https://good.com@evil.com/cb")
	var r *RefusedError
	if !errors.As(err, &r) || r.Class != ClassUserinfo || !strings.Contains(r.Reason, "userinfo") {
		t.Fatalf("got %v, want a userinfo refusal", err)
	}
	if ClassOf(errors.New("other")) != "" {
		t.Fatal("ClassOf names a class for a plain error")
	}
}

func TestPatterns(t *testing.T) {
	tests := []struct {
		name, in, text, key string
		wildcard            bool
		err                 string
	}{
		{name: "an exact URI is normalised", in: "HTTPS://Good.com:443/cb", text: "https://good.com/cb", key: "https://good.com/cb"},
		{name: "a wildcard keeps its star", in: "https://*.Example.com/cb", text: "https://*.example.com/cb", key: "https://example.com/cb", wildcard: true},
		{name: "a wildcard may name a port and query", in: "https://*.example.com:8443/cb?a=b", text: "https://*.example.com:8443/cb?a=b", key: "https://example.com:8443/cb?a=b", wildcard: true},
		{name: "a wildcard over an IDN domain", in: "https://*.bücher.de/cb", text: "https://*.xn--bcher-kva.de/cb", key: "https://xn--bcher-kva.de/cb", wildcard: true},
		{name: "no wildcard over a top-level domain", in: "https://*.com/cb", err: "public suffix"},
		{name: "no wildcard over a public suffix", in: "https://*.co.uk/cb", err: "public suffix"},
		{name: "no wildcard over a shared hosting suffix", in: "https://*.github.io/cb", err: "public suffix"},
		{name: "no wildcard for http", in: "http://*.example.com/cb", err: "only in an https host"},
		{name: "no wildcard in a custom scheme", in: "com.*.app:/cb", err: "only in an https host"},
		{name: "no wildcard in the path", in: "https://good.com/*", err: "leftmost host label"},
		{name: "no wildcard inside a label", in: "https://a*.example.com/cb", err: "leftmost host label"},
		{name: "no two wildcards", in: "https://*.*.example.com/cb", err: "leftmost host label"},
		{name: "no wildcard deeper than the first label", in: "https://a.*.example.com/cb", err: "leftmost host label"},
		{name: "no wildcard over an IP address", in: "https://*.0.0.1/cb", err: "IP address"},
		{name: "no wildcard over localhost", in: "https://*.localhost/cb", err: "public suffix"},
		{name: "no rule for an unsafe URI", in: "javascript:alert(1)", err: "always blocked"},
		{name: "no rule for a URL-carrying query", in: "https://good.com/cb?next=https://evil.com", err: "open redirect"},
		{name: "no rule with a fragment", in: "https://good.com/cb#x", err: "fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePattern(tt.in)
			if tt.err != "" {
				if !errors.Is(err, ErrInvalidRule) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want ErrInvalidRule saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Text != tt.text || p.Key != tt.key || p.Wildcard != tt.wildcard {
				t.Fatalf("got %+v, want text %q key %q wildcard %v", p, tt.text, tt.key, tt.wildcard)
			}
			again, err := ParsePattern(p.Text)
			if err != nil || again != p {
				t.Fatalf("a pattern's text does not parse to itself: %+v, %v", again, err)
			}
		})
	}
}
