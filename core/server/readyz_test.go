package server

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

// TestHealthAndReadiness: /healthz and /readyz report the version;
// /readyz answers 503 once the server drains.
func TestHealthAndReadiness(t *testing.T) {
	s := New(nil, nil, nil, Options{Version: "v1.2.3", MaxBodyBytes: 1 << 20}, zerolog.Nop())
	get := func(path string) (int, map[string]string) {
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI(path)
		s.route(&ctx)
		var body map[string]string
		_ = json.Unmarshal(ctx.Response.Body(), &body)
		return ctx.Response.StatusCode(), body
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(path); code != 200 || body["version"] != "v1.2.3" {
			t.Errorf("%s: %d %v", path, code, body)
		}
	}
	s.Drain()
	if code, body := get("/readyz"); code != fasthttp.StatusServiceUnavailable || body["status"] != "draining" {
		t.Errorf("/readyz while draining: %d %v", code, body)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz while draining: %d (the process is alive)", code)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// challengingAuth refuses everyone and says how to authenticate.
type challengingAuth struct{}

func (challengingAuth) Authenticate(context.Context, []byte, bool) (auth.Principal, error) {
	return auth.Principal{}, errors.New("no token")
}

func (challengingAuth) Challenge(path string) string {
	return `Bearer resource_metadata="https://gw.example/.well-known/oauth-protected-resource` + path + `"`
}

// TestAuthenticatorSeam: the server takes any Authenticator, and one that
// is a Challenger names the 401's WWW-Authenticate (where OAuth's RFC 9728
// challenge goes).
func TestAuthenticatorSeam(t *testing.T) {
	s := New(nil, challengingAuth{}, nil, Options{MaxBodyBytes: 1 << 20}, zerolog.Nop())
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/admin/v1/me")
	s.route(&ctx)
	if ctx.Response.StatusCode() != 401 || string(ctx.Response.Header.Peek("WWW-Authenticate")) != `Bearer resource_metadata="https://gw.example/.well-known/oauth-protected-resource/admin/v1/me"` {
		t.Errorf("%d %q", ctx.Response.StatusCode(), ctx.Response.Header.Peek("WWW-Authenticate"))
	}
}
