package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// testPlugin is the misbehaving plugin (testdata/testplugin), built once.
var testPlugin, testPluginSum string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plugin-host-test")
	if err != nil {
		panic(err)
	}
	testPlugin = filepath.Join(dir, "gatehouse-plugin-test")
	out, err := exec.Command("go", "build", "-o", testPlugin, "./testdata/testplugin").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build testplugin: %v\n%s", err, out)
		os.Exit(1)
	}
	if testPluginSum, err = fileSHA256(testPlugin); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func supervision() Supervision {
	return Supervision{CallTimeout: 2 * time.Second, HealthInterval: 100 * time.Millisecond,
		RestartBackoffMin: 50 * time.Millisecond, RestartBackoffMax: 200 * time.Millisecond, StartTimeout: 10 * time.Second}
}

// startHost runs one plugin of the test binary in mode.
func startHost(t testing.TB, kind, mode string, edit ...func(*Spec)) (*Host, *Plugin) {
	t.Helper()
	spec := Spec{Name: "test", Kind: kind, Path: testPlugin, SHA256: testPluginSum, Transport: "test",
		Settings: map[string]string{"mode": mode, "marker": filepath.Join(t.TempDir(), "crashed")}}
	for _, e := range edit {
		e(&spec)
	}
	h := New(Config{Specs: []Spec{spec}, Supervision: supervision()}, zerolog.Nop())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.Start(ctx)
	t.Cleanup(h.Close)
	p, _ := h.Plugin("test")
	return h, p
}

// waitState polls until the plugin is in want (or fails after a minute:
// a bound on a hang, not a timing assertion).
func waitState(t testing.TB, p *Plugin, want State) Status {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st := p.Status()
		if st.State == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin state %s (%s), want %s", st.State, st.LastError, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dial(t testing.TB, h *Host, url string) (upstream.Conn, error) {
	t.Helper()
	d := h.Dialers()["test"]
	if d == nil {
		t.Fatal("no dialer for transport test")
	}
	return d.Dial(context.Background(), proxy.DialRequest{Connector: &connector.Connector{Slug: "c", Transport: "test", URL: url}, MaxMessageBytes: 1 << 20})
}

func request(id int) *mcp.Message {
	m, rpcErr := mcp.Parse([]byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"n":%d}}}`, id, id)))
	if rpcErr != nil {
		panic(rpcErr)
	}
	return m
}

// call sends one request and returns its response or the error.
func call(conn upstream.Conn, id int) (*mcp.Message, error) {
	s, err := conn.Call(context.Background(), request(id))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Next(context.Background())
}

// pluginError checks that err is a plugin error naming the plugin, with
// the JSON-RPC code CodePluginFailed, wrapping cause, and mentioning msg.
func pluginError(t *testing.T, err error, cause error, msg string) {
	t.Helper()
	var rpcErr *mcp.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != CodePluginFailed || !strings.Contains(rpcErr.Message, `plugin "test"`) {
		t.Fatalf("error %v: want JSON-RPC %d naming plugin \"test\"", err, CodePluginFailed)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Errorf("error %v does not wrap %v", err, cause)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not say %q", err, msg)
	}
}

func TestTransportPluginCarriesMessagesBothWays(t *testing.T) {
	h, p := startHost(t, "transport", "echo")
	waitState(t, p, StateRunning)
	conn, err := dial(t, h, "test://echo")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for id := 1; id <= 3; id++ {
		m, err := call(conn, id)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`{"echo":{"name":"echo","arguments":{"n":%d}}}`, id)
		if m.Kind() != mcp.KindResponse || m.IDKey() != fmt.Sprint(id) || string(m.Result) != want {
			t.Errorf("response %s, want id %d result %s", m.Bytes(), id, want)
		}
	}
	t.Run("two sessions share one process", func(t *testing.T) {
		pid := p.Status().PID
		c2, err := dial(t, h, "test://echo")
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		if _, err := call(c2, 9); err != nil {
			t.Fatal(err)
		}
		if got := p.Status().PID; got != pid || pid == 0 {
			t.Errorf("pid %d after the second session, %d before", got, pid)
		}
	})
	t.Run("a closed session refuses calls", func(t *testing.T) {
		c3, err := dial(t, h, "test://echo")
		if err != nil {
			t.Fatal(err)
		}
		c3.Close()
		if _, err := call(c3, 1); !errors.Is(err, upstream.ErrClosed) {
			t.Errorf("call after close: %v, want ErrClosed", err)
		}
	})
	t.Run("an upstream the plugin cannot open is the connector's unavailability, naming the plugin", func(t *testing.T) {
		_, err := dial(t, h, "test://refuse")
		var upErr *UpstreamError
		var rpcErr *mcp.Error
		if !errors.As(err, &upErr) || errors.As(err, &rpcErr) ||
			!strings.Contains(err.Error(), `through plugin "test"`) || !strings.Contains(err.Error(), "no upstream at test://refuse") {
			t.Fatalf("error %v, want an UpstreamError (not a plugin failure) naming the plugin and the reason", err)
		}
		if p.Status().State != StateRunning {
			t.Errorf("plugin %+v after an upstream refusal, want it still running", p.Status())
		}
	})
}

func TestPluginFailures(t *testing.T) {
	t.Run("a crash mid-call fails the call naming the plugin, and the plugin is restarted", func(t *testing.T) {
		h, p := startHost(t, "transport", "crash-once")
		waitState(t, p, StateRunning)
		conn, err := dial(t, h, "test://x")
		if err != nil {
			t.Fatal(err)
		}
		_, err = call(conn, 1)
		pluginError(t, err, upstream.ErrClosed, "crashed")
		st := waitState(t, p, StateRunning)
		if st.Restarts < 1 {
			t.Errorf("restarts %d, want at least 1", st.Restarts)
		}
		conn2, err := dial(t, h, "test://x")
		if err != nil {
			t.Fatalf("dial after restart: %v", err)
		}
		defer conn2.Close()
		if _, err := call(conn2, 2); err != nil {
			t.Errorf("call after restart: %v", err)
		}
	})
	t.Run("a plugin that keeps crashing fails dials while it restarts", func(t *testing.T) {
		h, p := startHost(t, "transport", "crash")
		waitState(t, p, StateRunning)
		conn, err := dial(t, h, "test://x")
		if err != nil {
			t.Fatal(err)
		}
		_, err = call(conn, 1)
		pluginError(t, err, ErrNotRunning, "crashed")
		waitState(t, p, StateRestarting)
		// Either refused while restarting or running again: never a hang
		// nor a panic. While restarting the error says so.
		if _, err := dial(t, h, "test://x"); err != nil {
			pluginError(t, err, ErrNotRunning, "not running")
		}
	})
	t.Run("a hung plugin fails the call at the deadline naming the plugin", func(t *testing.T) {
		h, p := startHost(t, "transport", "hang")
		waitState(t, p, StateRunning)
		conn, err := dial(t, h, "test://x")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = call(conn, 1)
		pluginError(t, err, ErrTimeout, "no answer within 2s")
		if st := p.Status(); st.State != StateRunning {
			t.Errorf("state %s after a slow call, want running (the process is healthy)", st.State)
		}
	})
	t.Run("a garbage answer fails the call and closes the session", func(t *testing.T) {
		h, p := startHost(t, "transport", "garbage")
		waitState(t, p, StateRunning)
		conn, err := dial(t, h, "test://x")
		if err != nil {
			t.Fatal(err)
		}
		_, err = call(conn, 1)
		pluginError(t, err, ErrGarbage, "not JSON-RPC")
		if _, err := call(conn, 2); !errors.Is(err, upstream.ErrClosed) {
			t.Errorf("second call: %v, want the session closed", err)
		}
	})
	t.Run("a plugin that does not confirm the session fails the dial", func(t *testing.T) {
		h, p := startHost(t, "transport", "wrong-first-frame")
		waitState(t, p, StateRunning)
		_, err := dial(t, h, "test://x")
		pluginError(t, err, ErrGarbage, "first frame is not Opened")
	})
	t.Run("a plugin of another protocol version is refused at the handshake", func(t *testing.T) {
		h, p := startHost(t, "transport", "version2")
		st := waitState(t, p, StateRestarting)
		if !strings.Contains(strings.ToLower(st.LastError), "incompatible api version") {
			t.Errorf("last error %q, want the version mismatch", st.LastError)
		}
		_, err := dial(t, h, "test://x")
		pluginError(t, err, ErrNotRunning, "not running")
	})
	t.Run("an executable that does not do the handshake is refused", func(t *testing.T) {
		_, p := startHost(t, "transport", "not-a-plugin")
		st := waitState(t, p, StateRestarting)
		if !strings.Contains(st.LastError, "handshake") {
			t.Errorf("last error %q, want a handshake failure", st.LastError)
		}
	})
	t.Run("a plugin not serving the configured kind is refused", func(t *testing.T) {
		_, p := startHost(t, "auth", "echo")
		st := waitState(t, p, StateRestarting)
		if !strings.Contains(st.LastError, `does not serve kind "auth"`) {
			t.Errorf("last error %q", st.LastError)
		}
	})
	t.Run("a checksum mismatch refuses to start it, naming both sums", func(t *testing.T) {
		wrong := strings.Repeat("0", 64)
		h, p := startHost(t, "transport", "echo", func(s *Spec) { s.SHA256 = wrong })
		st := waitState(t, p, StateRefused)
		if !strings.Contains(st.LastError, wrong) || !strings.Contains(st.LastError, testPluginSum) || st.PID != 0 {
			t.Errorf("last error %q (pid %d), want both sums and no process", st.LastError, st.PID)
		}
		_, err := dial(t, h, "test://x")
		pluginError(t, err, ErrNotRunning, "refused at start")
	})
	t.Run("a missing executable is reported and retried", func(t *testing.T) {
		_, p := startHost(t, "transport", "echo", func(s *Spec) { s.Path = filepath.Join(t.TempDir(), "nope") })
		st := waitState(t, p, StateRestarting)
		if !strings.Contains(st.LastError, "no such file") {
			t.Errorf("last error %q", st.LastError)
		}
	})
}

func TestAuthPlugin(t *testing.T) {
	h, p := startHost(t, "auth", "auth")
	waitState(t, p, StateRunning)
	providers := h.Providers()
	if len(providers) != 1 || providers[0].Name() != "plugin:test" {
		t.Fatalf("providers %v", providers)
	}
	a := providers[0]
	tests := []struct {
		name     string
		header   string
		wantUser string
		wantErr  error
	}{
		{"a valid credential yields the user and roles", "Test ok-ada", "ada", nil},
		{"a credential of another kind passes on", "Bearer xyz", "", auth.ErrNotMine},
		{"an invalid credential of its kind is refused", "Test bad", "", auth.ErrInvalidToken},
		{"a hung check fails at the deadline", "Test hang", "", ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.AuthenticateHeader(context.Background(), []byte(tt.header))
			if !errors.Is(err, tt.wantErr) || got.User != tt.wantUser {
				t.Fatalf("got %+v, %v; want user %q, error %v", got, err, tt.wantUser, tt.wantErr)
			}
			if tt.wantUser != "" && (len(got.Roles) != 1 || got.Roles[0] != "member" || got.Provider != "plugin:test") {
				t.Errorf("principal %+v", got)
			}
		})
	}
	t.Run("a crash fails the check naming the plugin, and it comes back", func(t *testing.T) {
		_, err := a.AuthenticateHeader(context.Background(), []byte("Test crash"))
		var rpcErr *mcp.Error
		if !errors.As(err, &rpcErr) || rpcErr.Code != CodePluginFailed || !strings.Contains(err.Error(), `plugin "test"`) {
			t.Fatalf("error %v", err)
		}
		waitState(t, p, StateRunning)
		if got, err := a.AuthenticateHeader(context.Background(), []byte("Test ok-bo")); err != nil || got.User != "bo" {
			t.Errorf("after restart: %+v, %v", got, err)
		}
	})
}

func TestDiscoveryListsUnconfiguredExecutables(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(testPlugin)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"gatehouse-plugin-test", "gatehouse-plugin-extra", "README.md"} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h := New(Config{Dir: dir, Specs: []Spec{{Name: "test", Kind: "transport", Path: filepath.Join(dir, "gatehouse-plugin-test"),
		SHA256: testPluginSum, Transport: "test", Settings: map[string]string{"mode": "echo"}}}, Supervision: supervision()}, zerolog.Nop())
	list := h.List()
	if len(list) != 2 || list[0].Name != "test" || list[1].Name != "extra" || list[1].State != StateUnconfigured || list[1].SHA256 != testPluginSum {
		t.Fatalf("list %+v", list)
	}
}
