package admin

import (
	"net/http"
	"strings"
	"testing"
	"time"

	pluginhost "github.com/gatehouse-mcp/gatehouse/plugins/host"
)

type fakePlugins []pluginhost.Status

func (f fakePlugins) List() []pluginhost.Status { return f }

func TestPluginTransports(t *testing.T) {
	const ws = `{"name":"Chat","slug":"chat","transport":"websocket","url":"ws://chat.example.com/mcp","auth":{"kind":"none"}}`
	tests := []struct {
		name      string
		loaded    []string
		body      string
		wantCode  int
		wantInMsg string
	}{
		{"a plugin transport is refused while no plugin serves it", nil, ws, http.StatusUnprocessableEntity, "none is loaded"},
		{"a plugin transport is refused when other plugins are loaded", []string{"grpc"}, ws, http.StatusUnprocessableEntity, "loaded: grpc"},
		{"a plugin transport is accepted when its plugin is loaded", []string{"websocket"}, ws, http.StatusCreated, ""},
		{"a malformed transport name is refused", []string{"websocket"}, `{"name":"X","transport":"Web Socket","url":"ws://x.example.com"}`, http.StatusUnprocessableEntity, "no transport plugin serves it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.api.PluginTransports = tt.loaded
			code, out, _ := f.do(t, owner, http.MethodPost, "/connectors", tt.body)
			if code != tt.wantCode {
				t.Fatalf("HTTP %d %v, want %d", code, out, tt.wantCode)
			}
			if tt.wantInMsg != "" {
				e, _ := out["error"].(map[string]any)
				if msg, _ := e["message"].(string); !strings.Contains(msg, tt.wantInMsg) || e["field"] != "transport" {
					t.Errorf("error %v, want field transport and a message with %q", e, tt.wantInMsg)
				}
			}
		})
	}
	t.Run("a patch to an unserved plugin transport is refused", func(t *testing.T) {
		f := newFixture(t)
		f.api.PluginTransports = []string{"websocket"}
		if code, out, _ := f.do(t, owner, http.MethodPost, "/connectors", ws); code != http.StatusCreated {
			t.Fatalf("create: HTTP %d %v", code, out)
		}
		code, out, _ := f.do(t, owner, http.MethodPatch, "/connectors/chat", `{"transport":"carrier-pigeon"}`)
		if e, _ := out["error"].(map[string]any); code != http.StatusUnprocessableEntity || e["field"] != "transport" {
			t.Errorf("HTTP %d %v", code, out)
		}
	})
}

func TestListPlugins(t *testing.T) {
	f := newFixture(t)
	f.api.Plugins = fakePlugins{{Name: "websocket", Kind: "transport", State: pluginhost.StateRunning, Since: time.Unix(0, 0)}}
	t.Run("an owner lists the plugins with their state", func(t *testing.T) {
		code, out, _ := f.do(t, owner, http.MethodGet, "/plugins", "")
		list, _ := out["plugins"].([]any)
		if code != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["state"] != "running" {
			t.Fatalf("HTTP %d %v", code, out)
		}
	})
	t.Run("a member may not list them", func(t *testing.T) {
		if code, out, _ := f.do(t, member, http.MethodGet, "/plugins", ""); code != http.StatusForbidden {
			t.Errorf("HTTP %d %v", code, out)
		}
	})
	t.Run("a write is not allowed", func(t *testing.T) {
		if code, out, _ := f.do(t, owner, http.MethodPost, "/plugins", "{}"); code != http.StatusMethodNotAllowed {
			t.Errorf("HTTP %d %v", code, out)
		}
	})
}
