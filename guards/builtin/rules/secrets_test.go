package rules

import (
	"net/url"
	"testing"
)

// TestGenericSecretNamesAndAllowlist: the generic rule reads any
// identifier around a credential word (gitleaks's reading), and its
// allowlists drop names and values that hold no credential. The values are
// random strings, not real keys.
func TestGenericSecretNamesAndAllowlist(t *testing.T) {
	const key = "6SqevrQYcomh1Ugx3a7yjJ3kai0mAPWf"
	tests := []struct {
		name, text string
		want       bool
	}{
		{"env name with two prefixes", `export MCP_PROXY_API_KEY="` + key + `"`, true},
		{"camelCase query parameter", "https://mcp.example.com/mcp/?tavilyApiKey=" + key, true},
		{"camelCase variable", "var sessionToken = '" + key + "';", true},
		{"suffix after the word", "SECRET_KEY_BASE=" + key, true},
		{"plain word", "password: " + key, true},
		{"key id", "AWS_KEY_ID=" + key, false},
		{"public key", `"public_key": "` + key + `"`, false},
		{"pagination token", `"nextPageToken": "` + key + `"`, false},
		{"cancel token", "cancelToken: " + key, false},
		{"token count", "max_tokens=" + key, false},
		{"csrf token", "csrf_token=" + key, false},
		{"token endpoint", "TOKEN_URL=" + key, false},
		{"key file", "private_key_file=" + key, false},
		{"GitHub Actions secret reference", "API_KEY: ${{ secrets.API_KEY_PROD1 }}", false},
		{"system path", "SECRET_FILE_PATH_1=/etc/app/secret2", false},
		{"placeholder", "API_KEY=your-api-key-here1", false},
		{"no digit", "API_KEY=abcdefghijklmnopqrstuv", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok := matchSecret(tt.text)
			if ok != tt.want {
				t.Fatalf("matchSecret(%q) = %q, %v; want found=%v", tt.text, id, ok, tt.want)
			}
		})
	}
}

// TestBadgeTokenIsNotExfiltration: a README badge's public token does not
// make its image URL an exfiltration; a credential or encoded text in the
// same place, and a token on an image that is not a badge, still do.
func TestBadgeTokenIsNotExfiltration(t *testing.T) {
	tests := []struct {
		name, raw string
		want      bool
	}{
		{"codecov badge", "https://codecov.io/gh/o/r/branch/main/graph/badge.svg?token=xcfqHhJC37", false},
		{"badge host", "https://badges.example.com/js/rating/p.svg?token=fh3LMNOV+JSWykSjtg1rA8ko", false},
		{"token on a plain image", "https://img.example.com/p.png?token=xcfqHhJC37", true},
		{"other parameter on a badge", "https://codecov.io/gh/o/r/graph/badge.svg?data=xcfqHhJC37", true},
		{"credential on a badge", "https://codecov.io/graph/badge.svg?token=ghp_" + "Ab3dEf6hIj9kLm2oPq5sTu8wXy1zAb4dEf7h", true},
		{"badge without an image suffix", "https://badge.example.com/collect?token=xcfqHhJC37", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := url.Parse(tt.raw); err != nil {
				t.Fatal(err)
			}
			why, _ := urlCarriesData(tt.raw, true)
			if got := why != ""; got != tt.want {
				t.Fatalf("urlCarriesData(%q) = %q; want carries=%v", tt.raw, why, tt.want)
			}
		})
	}
}
