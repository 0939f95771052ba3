package toolguard

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/guards/host"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// buildGuest compiles one of the guard host's test guards
// (guards/host/testdata/name) to WebAssembly.
func buildGuest(t *testing.T, name string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), name+".wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "../../guards/host/testdata/"+name)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, msg)
	}
	code, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestHostileRequestHookFailMode: an uploaded guard whose request hook
// loops or exhausts its memory is stopped with a clear error, and the
// connector's fail mode decides the call: closed refuses it (the upstream
// never runs), open lets it pass flagged.
func TestHostileRequestHookFailMode(t *testing.T) {
	h, err := host.New(context.Background(), host.Config{Interruptible: true, MemoryLimitPages: 512, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	for _, tc := range []struct {
		module, message string
		timeoutMS       int // the guard's budget: the default, or room to reach the memory cap
	}{
		{"requestloop", "guard timed out: requestloop (gh_tool_request) did not return before its deadline", 0},
		{"requestbomb", "guard trapped: requestbomb in gh_tool_request", 10000},
	} {
		m, err := h.Load(context.Background(), tc.module, buildGuest(t, tc.module), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, fail := range []string{FailClosed, FailOpen} {
			t.Run(tc.module+" on a connector failing "+fail, func(t *testing.T) {
				s := DefaultSettings()
				s.Connectors = map[string]ConnectorSettings{"gh": {FailMode: fail}}
				if tc.timeoutMS > 0 {
					s.CallTimeoutMS = tc.timeoutMS
				}
				e := New(s)
				e.SetChain([]Entry{{Name: tc.module, Module: m, Enabled: true}})
				refused, out := e.GuardRequest(context.Background(), gh, callRequest(t, 1, "run", `{"cmd":"ls"}`), nil)
				if len(out.Verdicts) != 1 || !strings.Contains(out.Verdicts[0].Error, tc.message) {
					t.Fatalf("verdicts %+v, want the error %q", out.Verdicts, tc.message)
				}
				switch fail {
				case FailClosed:
					if refused == nil || refused.Code != mcp.CodeGuardBlocked || !strings.Contains(refused.Message, "the guard failed and the connector fails closed: "+tc.message) {
						t.Errorf("refused %+v", refused)
					}
				case FailOpen:
					if refused != nil || out.Action != guard.ActionFlag {
						t.Errorf("refused %+v, outcome %+v; want a flagged pass", refused, out)
					}
				}
			})
		}
	}
}
