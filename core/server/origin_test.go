package server

import "testing"

func TestOriginPolicy(t *testing.T) {
	p := newOriginPolicy([]string{"https://app.example.com", "HTTPS://Admin.Example.com/"})
	tests := []struct {
		name   string
		origin string
		want   bool
	}{
		{"a request without Origin (a non-browser client) passes", "", true},
		{"a loopback origin passes", "http://localhost:3000", true},
		{"an IPv4 loopback origin passes", "http://127.0.0.1:8080", true},
		{"an IPv6 loopback origin passes", "http://[::1]:6274", true},
		{"an allowed origin passes", "https://app.example.com", true},
		{"an allowed origin matches case-insensitively", "https://ADMIN.example.com", true},
		{"a foreign origin is refused", "http://evil.example", false},
		{"an allowed host on another scheme is refused", "http://app.example.com", false},
		{"a look-alike of localhost is refused", "http://localhost.evil.example", false},
		{"userinfo before a loopback host is refused", "http://evil@localhost", false},
		{"a non-http scheme is refused", "file://localhost", false},
		{"the opaque null origin is refused", "null", false},
		{"garbage is refused", "::::", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.check(tc.origin); got != tc.want {
				t.Errorf("check(%q) = %v, want %v", tc.origin, got, tc.want)
			}
		})
	}
}
