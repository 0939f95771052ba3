// Command loadtest measures tools/call throughput and latency through the
// gateway against the same upstream called directly, on loopback only.
//
//	loadtest -gateway-bin bin/gatehouse -echoserver-bin /tmp/echoserver
//
// It starts the hand-written echoserver fixture over Streamable HTTP, a
// gateway with two connectors to it (Streamable HTTP, and the same binary
// over STDIO), and for 1 and 16 connections runs closed-loop tools/call
// echo with a ~100-byte message for a fixed time after a warm-up. Each
// connection has its own MCP session and keep-alive TCP connection; JSON
// answers (Accept: application/json). It prints a Markdown table, with
// the gateway's own CPU time per call (user+system, from /proc, over the
// measured window; the STDIO upstream's process is not counted).
//
// With -compare, the gateway's cells run twice in the same run, the
// built-in guards off then on (toggled through the admin API between
// cells, so drift on a shared machine lands on both), and a second table
// puts each pair side by side: CPU/call off and on, what the guards add,
// and the p99 ratio. -size sets the echoed message's bytes (the answer
// the guards judge is about that size).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gatehouse-mcp/gatehouse/test/rawmcp"
)

func main() {
	gatewayBin := flag.String("gateway-bin", "bin/gatehouse", "gatehouse binary")
	echoBin := flag.String("echoserver-bin", "", "echoserver fixture binary")
	duration := flag.Duration("duration", 5*time.Second, "measured time per cell")
	warmup := flag.Duration("warmup", time.Second, "unmeasured time before each cell")
	guards := flag.Bool("guards", false, "keep the built-in ToolGuard chain on (default off: measure the proxy itself)")
	authMode := flag.String("auth", "none", "client credentials: none (anonymous), token (an API token) or oauth (an access token from the gateway's authorization server)")
	unique := flag.Bool("unique", false, "make every call's message (and so its answer) different, so the guards' verdict cache never hits (default: the same call every time)")
	compare := flag.Bool("compare", false, "measure every gateway cell with the built-in guards off and on in this one run, and compare them (overrides -guards)")
	size := flag.Int("size", 100, "bytes of the echoed message")
	result := flag.Bool("result", false, "call the upstream's big tool instead of echo: small arguments and a -size-byte prose result (the answer guards' case; the echo puts the message in the arguments too)")
	offload := flag.Bool("offload", true, "keep tool output offloading on (the default; outputs above 10 KB are stored and linked): -offload=false measures the relay of large outputs themselves")
	profile := flag.String("profile", "", "folder to write a gateway CPU profile of every gateway cell's measured window into (one .pprof per cell, named by target, connections and guards)")
	flag.Parse()
	if *size < 16 || *size > 4<<20 {
		fmt.Fprintln(os.Stderr, "loadtest: -size must be 16 bytes to 4 MiB")
		os.Exit(2)
	}
	if *echoBin == "" {
		fmt.Fprintln(os.Stderr, "loadtest: -echoserver-bin is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := options{duration: *duration, warmup: *warmup, guards: *guards, unique: *unique, compare: *compare, size: *size, result: *result, auth: *authMode, offload: *offload, profile: *profile}
	if err := run(ctx, *gatewayBin, *echoBin, o); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// children started by the run, stopped on exit whatever happens.
type children struct{ procs []*exec.Cmd }

func (c *children) start(env []string, bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	c.procs = append(c.procs, cmd)
	return nil
}

// pid of the last child started.
func (c *children) pid() int { return c.procs[len(c.procs)-1].Process.Pid }

func (c *children) stopAll() {
	for _, p := range c.procs {
		_ = syscall.Kill(-p.Process.Pid, syscall.SIGTERM)
	}
	for _, p := range c.procs {
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitUp(ctx context.Context, url string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not come up", url)
}

const adminToken = "loadtest-admin-token-0123456789"

// options are a run's flags.
type options struct {
	duration, warmup        time.Duration
	guards, unique, compare bool
	size                    int
	result                  bool
	auth                    string
	offload                 bool
	profile                 string // folder for per-cell CPU profiles; "": none
}

// setGuards turns the built-in guards on or off.
func setGuards(gw string, on bool) error {
	for _, g := range []string{"tool-list-guard", "tool-call-guard", "tool-intent-guard"} {
		if err := adminCall(gw, http.MethodPatch, "/admin/v1/guards/"+g, fmt.Sprintf(`{"enabled":%v}`, on), http.StatusOK); err != nil {
			return err
		}
	}
	return nil
}

func run(ctx context.Context, gatewayBin, echoBin string, o options) error {
	duration, warmup, guards, unique, authMode := o.duration, o.warmup, o.guards, o.unique, o.auth
	var kids children
	defer kids.stopAll()
	upPort, err := freePort()
	if err != nil {
		return err
	}
	if err := kids.start(nil, echoBin, "-http", fmt.Sprintf("127.0.0.1:%d", upPort)); err != nil {
		return err
	}
	direct := fmt.Sprintf("http://127.0.0.1:%d/mcp", upPort)
	if err := waitUp(ctx, direct); err != nil {
		return err
	}
	gwPort, err := freePort()
	if err != nil {
		return err
	}
	dataDir, err := os.MkdirTemp("", "gatehouse-loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	gw := fmt.Sprintf("http://127.0.0.1:%d", gwPort)
	// Every load connection is the one anonymous user: the per-user limits
	// (meant for people, core/config.LimitsConfig) would refuse the
	// generator's connections beyond a user's share, so they are raised
	// to the per-connector ones for the run.
	cfgPath := filepath.Join(dataDir, "loadtest.yaml")
	cfgYAML := "limits:\n  sessions_per_user: 256\n  stdio_processes_per_user: 64\n  inflight_per_user: 256\n"
	if !o.offload {
		cfgYAML += "offload:\n  enabled: false\n"
	}
	if err := os.WriteFile(cfgPath, []byte(cfgYAML), 0o600); err != nil {
		return err
	}
	var prof *profiler
	gwEnv := []string{}
	if o.profile != "" {
		pprofPort, err := freePort()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return err
		}
		prof = &profiler{url: fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile", pprofPort), dir: o.profile}
		gwEnv = append(gwEnv, fmt.Sprintf("GATEHOUSE_PPROF_LISTEN=127.0.0.1:%d", pprofPort))
	}
	if err := kids.start(append(gwEnv,
		"GATEHOUSE_LISTEN=127.0.0.1:"+fmt.Sprint(gwPort), "GATEHOUSE_DATA_DIR="+dataDir, "GATEHOUSE_ADMIN_TOKEN="+adminToken,
		"GATEHOUSE_CLIENT_AUTH="+clientAuth(authMode), "GATEHOUSE_ANONYMOUS_ROLES=admin", "GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS=true", "GATEHOUSE_LOG_LEVEL=warn",
	), gatewayBin, "serve", "--config", cfgPath); err != nil {
		return err
	}
	gwPID := kids.pid()
	if err := waitUp(ctx, gw+"/healthz"); err != nil {
		return err
	}
	for _, c := range []map[string]any{
		{"name": "echo-http", "slug": "echo-http", "transport": "streamable-http", "url": direct, "auth": map[string]any{"kind": "none"}, "status": "active"},
		{"name": "echo-stdio", "slug": "echo-stdio", "transport": "stdio", "command": echoBin, "status": "active"},
	} {
		if err := createConnector(gw, c); err != nil {
			return err
		}
	}
	if !guards || o.compare {
		if err := setGuards(gw, false); err != nil {
			return err
		}
	}
	targets := []struct{ name, url string }{
		{"direct (Streamable HTTP)", direct},
		{"gateway → Streamable HTTP", gw + "/mcp/echo-http"},
		{"gateway → STDIO", gw + "/mcp/echo-stdio"},
	}
	var urls []string
	for _, t := range targets[1:] {
		urls = append(urls, t.url)
	}
	creds, err := credentials(gw, authMode, urls)
	if err != nil {
		return err
	}
	results := map[string]map[int]cell{}
	on := map[string]map[int]cell{} // -compare: the cells with the guards on
	for _, conns := range []int{1, 16} {
		for _, tgt := range targets {
			pid := gwPID
			if tgt.url == direct {
				pid = 0
			}
			c, err := measure(ctx, tgt.url, creds[tgt.url], pid, conns, duration, warmup, o.calls(), prof.cell(tgt.url, direct, conns, guards && !o.compare))
			if err != nil {
				return fmt.Errorf("%s at %d connections: %w", tgt.name, conns, err)
			}
			if results[tgt.name] == nil {
				results[tgt.name] = map[int]cell{}
			}
			results[tgt.name][conns] = c
			if !o.compare || pid == 0 {
				continue
			}
			if err := setGuards(gw, true); err != nil {
				return err
			}
			c, err = measure(ctx, tgt.url, creds[tgt.url], pid, conns, duration, warmup, o.calls(), prof.cell(tgt.url, direct, conns, true))
			if err != nil {
				return fmt.Errorf("%s at %d connections, guards on: %w", tgt.name, conns, err)
			}
			if err := setGuards(gw, false); err != nil {
				return err
			}
			if on[tgt.name] == nil {
				on[tgt.name] = map[int]cell{}
			}
			on[tgt.name][conns] = c
		}
	}
	chain := "built-in ToolGuard chain off (the proxy alone)"
	if guards {
		chain = "built-in ToolGuard chain on (Tool Call and Tool Intent guards on every call)"
	}
	if o.compare {
		chain = "built-in ToolGuard chain off (first table), then on and off side by side for each gateway cell"
	}
	if authMode != "none" {
		chain += "; clients authenticated with " + map[string]string{"token": "an API token", "oauth": "OAuth access tokens (one per endpoint)"}[authMode]
	}
	if unique {
		chain += "; every call distinct (no verdict-cache hits)"
	}
	if !o.offload {
		chain += "; output offloading off"
	}
	what := fmt.Sprintf("echo of a %d-byte message", o.size)
	if o.result {
		what = fmt.Sprintf("of a tool answering %d bytes of prose to small arguments", o.size)
	}
	fmt.Printf("tools/call %s, closed loop, %s per cell after %s warm-up, 2-core machine shared by client, gateway and upstream; %s\n\n", what, duration, warmup, chain)
	fmt.Println("| target | connections | requests/s | p50 | p90 | p99 | gateway CPU/call | errors |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, conns := range []int{1, 16} {
		for _, tgt := range targets {
			c := results[tgt.name][conns]
			cpu := "-"
			if c.cpuPerCall > 0 {
				cpu = us(c.cpuPerCall)
			}
			fmt.Printf("| %s | %d | %.0f | %s | %s | %s | %s | %d |\n", tgt.name, conns, c.rps, us(c.p50), us(c.p90), us(c.p99), cpu, c.errors)
		}
	}
	d16, h16, s16 := results[targets[0].name][16], results[targets[1].name][16], results[targets[2].name][16]
	d1, h1, s1 := results[targets[0].name][1], results[targets[1].name][1], results[targets[2].name][1]
	fmt.Printf("\nat 16 connections: gateway keeps %.0f%% (HTTP upstream) and %.0f%% (STDIO upstream) of direct throughput\n", 100*h16.rps/d16.rps, 100*s16.rps/d16.rps)
	fmt.Printf("at 1 connection: gateway adds %s (HTTP upstream) and %s (STDIO upstream, vs direct HTTP) to the p50\n", us(h1.p50-d1.p50), us(s1.p50-d1.p50))
	if o.compare {
		fmt.Printf("\nthe built-in guards, off and on in this run (%s):\n\n", what)
		fmt.Println("| target | connections | CPU/call off | CPU/call on | guards add | p99 off | p99 on | p99 on/off | requests/s off | requests/s on |")
		fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
		for _, conns := range []int{1, 16} {
			for _, tgt := range targets[1:] {
				a, b := results[tgt.name][conns], on[tgt.name][conns]
				add := "-"
				if a.cpuPerCall > 0 && b.cpuPerCall > 0 {
					add = fmt.Sprintf("%s (%+.0f%%)", us(b.cpuPerCall-a.cpuPerCall), 100*float64(b.cpuPerCall-a.cpuPerCall)/float64(a.cpuPerCall))
				}
				fmt.Printf("| %s | %d | %s | %s | %s | %s | %s | %.2f× | %.0f | %.0f |\n", tgt.name, conns, us(a.cpuPerCall), us(b.cpuPerCall), add,
					us(a.p99), us(b.p99), float64(b.p99)/float64(a.p99), a.rps, b.rps)
			}
		}
	}
	return nil
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

// clientAuth is the gateway's client_auth.mode for -auth.
func clientAuth(mode string) string {
	if mode == "none" {
		return "none"
	}
	return "token"
}

// adminCall sends one admin request and checks its status.
func adminCall(gw, method, path, body string, want int) error {
	return adminJSON(gw, method, path, body, want, nil)
}

func createConnector(gw string, c map[string]any) error {
	body, _ := json.Marshal(c)
	if err := adminCall(gw, http.MethodPost, "/admin/v1/connectors", string(body), http.StatusCreated); err != nil {
		return fmt.Errorf("create connector %v: %w", c["slug"], err)
	}
	return nil
}

type cell struct {
	rps           float64
	p50, p90, p99 time.Duration
	cpuPerCall    time.Duration // gateway user+system time per call; 0: not measured
	errors        int
}

// userHZ is Linux's fixed unit of the times in /proc/<pid>/stat.
const userHZ = 100

// cpuTime reads a process's user+system time from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	var utime, stime int64
	if _, err := fmt.Sscan(f[11], &utime); err != nil {
		return 0, err
	}
	if _, err := fmt.Sscan(f[12], &stime); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

func open(ctx context.Context, url, authorization string) (*rawmcp.Session, error) {
	var tr http.RoundTripper = &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}
	if authorization != "" {
		tr = withAuthorization{next: tr, value: authorization}
	}
	s := &rawmcp.Session{Client: &http.Client{Transport: tr}, URL: url}
	if _, err := s.Post(ctx, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"loadtest","version":"1"}}}`); err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}
	if _, err := s.Post(ctx, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); err != nil {
		return nil, fmt.Errorf("initialized: %w", err)
	}
	return s, nil
}

// prose fills the big tool's answers with -result: text with the
// keywords, punctuation and words the guards' rules look at, benign.
const prose = "The quarterly report lists revenue by region, the open support tickets and the roadmap items for the next release. "

// calls is what the workers send: the body of worker w's n-th call.
func (o options) calls() func(w, n int) string {
	if o.result {
		return func(w, n int) string {
			tag := ""
			if o.unique {
				tag = fmt.Sprintf(" -%d-%d", w, n)
			}
			return fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"big","arguments":{"bytes":%d,"unit":%q,"tag":%q}}}`, o.size, prose, tag)
		}
	}
	same := call(o.size)
	return func(w, n int) string {
		if o.unique {
			return uniqueCall(o.size, w, n)
		}
		return same
	}
}

// call is a tools/call echoing a message of size bytes.
func call(size int) string {
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"` + strings.Repeat("m", size) + `"}}}`
}

// uniqueCall is call(size) with a message of the same length that no
// other call of the run has (worker w, its n-th call).
func uniqueCall(size, w, n int) string {
	tag := fmt.Sprintf("-%d-%d", w, n)
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"` + strings.Repeat("m", size-len(tag)) + tag + `"}}}`
}

// measure runs conns closed-loop workers against url; pid, when not 0, is
// the gateway whose CPU time over the measured window is divided by the calls.
func measure(ctx context.Context, url, authorization string, pid, conns int, duration, warmup time.Duration, calls func(w, n int) string, profile *cellProfile) (cell, error) {
	sessions := make([]*rawmcp.Session, conns)
	for i := range sessions {
		s, err := open(ctx, url, authorization)
		if err != nil {
			return cell{}, err
		}
		sessions[i] = s
	}
	defer func() {
		for _, s := range sessions {
			s.Client.CloseIdleConnections()
		}
	}()
	start := time.Now().Add(warmup)
	end := start.Add(duration)
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	var cpu time.Duration
	if pid != 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(start))
			before, err := cpuTime(pid)
			profiled := make(chan error, 1)
			if profile != nil {
				go func() { profiled <- profile.fetch(ctx, duration) }()
			} else {
				profiled <- nil
			}
			time.Sleep(time.Until(end))
			after, err2 := cpuTime(pid)
			if err == nil && err2 == nil {
				cpu = after - before
			}
			if err := <-profiled; err != nil {
				fmt.Fprintln(os.Stderr, "loadtest: profile:", err)
			}
		}()
	}
	for w, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for n := 0; ; n++ {
				t0 := time.Now()
				if t0.After(end) || ctx.Err() != nil {
					break
				}
				body := calls(w, n)
				data, err := s.Post(ctx, body)
				d := time.Since(t0)
				if err != nil || !bytes.Contains(data, []byte(`"result"`)) {
					bad++
					if errors.Is(err, context.Canceled) {
						break
					}
					continue
				}
				if t0.After(start) {
					mine = append(mine, d)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(lat) == 0 {
		return cell{}, fmt.Errorf("no successful calls (%d errors)", errs)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	return cell{rps: float64(len(lat)) / duration.Seconds(), p50: q(0.50), p90: q(0.90), p99: q(0.99),
		cpuPerCall: cpu / time.Duration(len(lat)), errors: errs}, nil
}

// profiler names the gateway's CPU profiles for -profile.
type profiler struct{ url, dir string }

// cellProfile is where one cell's profile comes from and goes.
type cellProfile struct{ url, file string }

// cell is the profile of one gateway cell: nil for none (no -profile,
// or the direct target, whose process is not the gateway's).
func (p *profiler) cell(target, direct string, conns int, guards bool) *cellProfile {
	if p == nil || target == direct {
		return nil
	}
	name := "http"
	if strings.HasSuffix(target, "-stdio") {
		name = "stdio"
	}
	state := "off"
	if guards {
		state = "on"
	}
	return &cellProfile{url: p.url, file: filepath.Join(p.dir, fmt.Sprintf("%s-%dconn-guards-%s.pprof", name, conns, state))}
}

// fetch takes a CPU profile of the next d and writes it to the file.
func (c *cellProfile) fetch(ctx context.Context, d time.Duration) error {
	secs := max(1, int(d/time.Second))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s?seconds=%d", c.url, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", c.url, resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(c.file, data, 0o644)
}
