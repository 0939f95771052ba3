package upstream_test

import (
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

func TestStatusErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  upstream.StatusError
		want string
	}{
		{"plain status", upstream.StatusError{StatusCode: 500}, "upstream answered HTTP 500"},
		{"status with body", upstream.StatusError{StatusCode: 502, Body: "bad gateway"}, "upstream answered HTTP 502: bad gateway"},
		{"401 says credentials are missing", upstream.StatusError{StatusCode: 401, Body: "no token"},
			"upstream answered HTTP 401 (it needs credentials: give the connector bearer auth or per-user header values): no token"},
		{"403 says credentials are refused", upstream.StatusError{StatusCode: 403},
			"upstream answered HTTP 403 (the connector's credentials are refused or lack a scope)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
