// Package upstreamtest holds what the upstream transports' tests share:
// building the echoserver fixture, and driving an upstream.Conn through
// requests, streams and the initialize handshake.
package upstreamtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// RunWithEchoserver is a TestMain body: it builds test/fixtures/echoserver
// into a temporary dir, stores its path in *bin, runs the tests and
// exits.
func RunWithEchoserver(m *testing.M, bin *string) {
	dir, err := os.MkdirTemp("", "gatehouse-upstream-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin, err = buildEchoserver(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildEchoserver builds test/fixtures/echoserver into dir from the module root.
func buildEchoserver(dir string) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(dir, "echoserver")
	cmd := exec.Command("go", "build", "-o", bin, "./test/fixtures/echoserver")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build echoserver: %w\n%s", err, out)
	}
	return bin, nil
}

// hangGuard only keeps a broken test from hanging until the go test timeout.
const hangGuard = 30 * time.Second

// Guard returns a context that ends a broken test instead of hanging it.
func Guard(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	t.Cleanup(cancel)
	return ctx
}

// Request builds a request with an integer id and raw params.
func Request(t testing.TB, id int, method, params string) *mcp.Message {
	t.Helper()
	var raw json.RawMessage
	if params != "" {
		raw = json.RawMessage(params)
	}
	m, err := mcp.NewRequest(json.RawMessage(fmt.Sprint(id)), method, raw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ToolCall builds a tools/call of name with raw JSON arguments.
func ToolCall(t testing.TB, id int, name, args string) *mcp.Message {
	t.Helper()
	return Request(t, id, mcp.MethodToolsCall, `{"name":"`+name+`","arguments":`+args+`}`)
}

// Collect reads a call's stream to its end.
func Collect(t testing.TB, s upstream.Stream) ([]*mcp.Message, error) {
	t.Helper()
	ctx := Guard(t)
	var out []*mcp.Message
	for {
		m, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

// RoundTrip calls and returns the final response, failing on anything else.
func RoundTrip(t testing.TB, c upstream.Conn, req *mcp.Message) *mcp.Message {
	t.Helper()
	s, err := c.Call(Guard(t), req)
	if err != nil {
		t.Fatalf("Call %s: %v", req.Method, err)
	}
	msgs, err := Collect(t, s)
	if err != nil {
		t.Fatalf("stream of %s: %v", req.Method, err)
	}
	if len(msgs) == 0 || msgs[len(msgs)-1].Kind() != mcp.KindResponse {
		t.Fatalf("stream of %s ended without a response: %d messages", req.Method, len(msgs))
	}
	return msgs[len(msgs)-1]
}

// Initialize performs the handshake on c asking for version, and fails
// unless the server agrees to it.
func Initialize(t testing.TB, c upstream.Conn, version string) {
	t.Helper()
	resp := RoundTrip(t, c, Request(t, 0, mcp.MethodInitialize, `{"protocolVersion":"`+version+`","capabilities":{},"clientInfo":{"name":"test","version":"0"}}`))
	if v := mcp.NegotiatedVersion(resp.Result); v != version {
		t.Fatalf("negotiated %q, want %s", v, version)
	}
	note, _ := mcp.NewNotification(mcp.MethodInitialized, nil)
	if err := c.Send(Guard(t), note); err != nil {
		t.Fatalf("Send initialized: %v", err)
	}
}
