package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

type downErr struct{ down bool }

func (e downErr) Error() string             { return `plugin "hmac": not running` }
func (e downErr) ProviderUnavailable() bool { return e.down }

func TestAuthUnavailable(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		want503  bool
		mentions string
	}{
		{"a provider that could not decide", fmt.Errorf("authenticate: %w", downErr{down: true}), true, `plugin \"hmac\": not running`},
		{"a provider that says it decided", downErr{down: false}, false, ""},
		{"an invalid token", auth.ErrInvalidToken, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ctx fasthttp.RequestCtx
			got := authUnavailable(&ctx, tt.err)
			if got != tt.want503 {
				t.Fatalf("authUnavailable = %v, want %v", got, tt.want503)
			}
			if !tt.want503 {
				return
			}
			body := string(ctx.Response.Body())
			if ctx.Response.StatusCode() != fasthttp.StatusServiceUnavailable || string(ctx.Response.Header.Peek("Retry-After")) == "" ||
				!strings.Contains(body, "auth_unavailable") || !strings.Contains(body, tt.mentions) {
				t.Fatalf("HTTP %d, Retry-After %q, body %s", ctx.Response.StatusCode(), ctx.Response.Header.Peek("Retry-After"), body)
			}
		})
	}
}
