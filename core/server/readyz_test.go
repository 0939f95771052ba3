package server

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"
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
