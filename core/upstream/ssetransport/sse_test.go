package ssetransport

import (
	"errors"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

func TestResolveEndpoint(t *testing.T) {
	const base = "https://mcp.example.com/sse"
	tests := []struct {
		name      string
		announced string
		want      string
	}{
		{"a relative path resolves against the stream URL", "/messages?sessionId=1", "https://mcp.example.com/messages?sessionId=1"},
		{"an absolute URL on the same origin is kept", "https://mcp.example.com/m?s=2", "https://mcp.example.com/m?s=2"},
		{"surrounding whitespace is ignored", "  /messages?s=3\n", "https://mcp.example.com/messages?s=3"},
		{"another host is refused", "https://evil.example/steal", ""},
		{"another port is refused", "https://mcp.example.com:8443/m", ""},
		{"a scheme downgrade is refused", "http://mcp.example.com/m", ""},
		{"a protocol-relative URL to another host is refused", "//evil.example/m", ""},
		{"userinfo tricks are refused", "https://mcp.example.com@evil.example/m", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveEndpoint(base, tc.announced)
			if tc.want == "" {
				if err == nil || !errors.Is(err, upstream.ErrUnavailable) {
					t.Fatalf("resolveEndpoint(%q) = %q, %v; want a refusal", tc.announced, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("resolveEndpoint(%q) = %q, %v; want %q", tc.announced, got, err, tc.want)
			}
		})
	}
}
