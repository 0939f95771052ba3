package admin

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/guards/host"
)

// fakeGuards is an in-memory GuardManager; the real one (with wazero) is
// tested in core/toolguard and end to end.
type fakeGuards struct {
	recs     []toolguard.Record
	settings toolguard.Settings
}

func (f *fakeGuards) List() []toolguard.Record { return f.recs }
func (f *fakeGuards) Upload(_ context.Context, name string, code []byte, config, by string) (*toolguard.Record, error) {
	if string(code) == "junk" {
		return nil, fmt.Errorf("%w: %s is not a valid WebAssembly module", host.ErrABI, name)
	}
	if name == "tool-call-guard" {
		return nil, toolguard.ErrBuiltin
	}
	r := toolguard.Record{Name: name, Enabled: true, Order: len(f.recs), Hooks: []string{"tool_call"}, SHA256: "ab", Size: len(code), Config: config, UploadedBy: by}
	f.recs = append(f.recs, r)
	return &r, nil
}
func (f *fakeGuards) Update(_ context.Context, name string, enabled *bool, order *int) (*toolguard.Record, error) {
	for i := range f.recs {
		if f.recs[i].Name == name {
			if enabled != nil {
				f.recs[i].Enabled = *enabled
			}
			if order != nil {
				f.recs[i].Order = *order
			}
			return &f.recs[i], nil
		}
	}
	return nil, toolguard.ErrUnknownGuard
}
func (f *fakeGuards) Delete(_ context.Context, name string) error {
	if name == "tool-call-guard" {
		return toolguard.ErrBuiltin
	}
	i := slices.IndexFunc(f.recs, func(r toolguard.Record) bool { return r.Name == name })
	if i < 0 {
		return toolguard.ErrUnknownGuard
	}
	f.recs = slices.Delete(f.recs, i, i+1)
	return nil
}
func (f *fakeGuards) Settings() toolguard.Settings { return f.settings }
func (f *fakeGuards) SetSettings(_ context.Context, s toolguard.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	f.settings = s
	return nil
}

func TestGuardEndpoints(t *testing.T) {
	f := newFixture(t)
	g := &fakeGuards{settings: toolguard.DefaultSettings(), recs: []toolguard.Record{{Name: "tool-call-guard", Builtin: true, Enabled: true, Hooks: []string{"tool_call"}, SHA256: "cd", Size: 10}}}
	f.api.Guards = g
	upload := func(p string, name, body string) (int, map[string]any) {
		code, out, _ := f.do(t, admin, http.MethodPost, "/guards?name="+name, body, "Content-Type", "application/wasm")
		return code, out
	}
	if code, out := upload("ada", "acme-dlp", "\x00asm fake module"); code != 201 || out["name"] != "acme-dlp" || out["uploaded_by"] != "ada" {
		t.Fatalf("upload: HTTP %d %v", code, out)
	}
	if code, out := upload("ada", "broken", "junk"); code != 422 || out["error"].(map[string]any)["code"] != "invalid_module" {
		t.Errorf("a bad module: HTTP %d %v", code, out)
	}
	if code, out := upload("ada", "tool-call-guard", "x"); code != 409 {
		t.Errorf("replacing a built-in: HTTP %d %v", code, out)
	}
	if code, out, _ := f.do(t, admin, http.MethodPatch, "/guards/tool-call-guard", `{"enabled":false,"order":5}`); code != 200 || out["enabled"] != false {
		t.Errorf("disable: HTTP %d %v", code, out)
	}
	if code, _, _ := f.do(t, admin, http.MethodPatch, "/guards/nope", `{"enabled":true}`); code != 404 {
		t.Errorf("unknown guard: HTTP %d", code)
	}
	if code, out, _ := f.do(t, admin, http.MethodPut, "/guards/settings", `{"sensitivity":"high","connectors":{"github":{"fail_mode":"open"}}}`); code != 200 || out["sensitivity"] != "high" || out["fail_mode"] != "closed" {
		t.Errorf("settings: HTTP %d %v", code, out)
	}
	if code, out, _ := f.do(t, admin, http.MethodPut, "/guards/settings", `{"sensitivity":"extreme"}`); code != 422 {
		t.Errorf("bad sensitivity: HTTP %d %v", code, out)
	}
	if code, out, _ := f.do(t, admin, http.MethodPut, "/guards/settings", `{"colour":"red"}`); code != 400 || errField(out) != "colour" {
		t.Errorf("unknown field: HTTP %d %v", code, out)
	}
	if code, _, _ := f.do(t, admin, http.MethodDelete, "/guards/tool-call-guard", ""); code != 409 {
		t.Errorf("delete a built-in: HTTP %d", code)
	}
	if code, _, _ := f.do(t, admin, http.MethodDelete, "/guards/acme-dlp", ""); code != 204 {
		t.Errorf("delete: HTTP %d", code)
	}
	if code, out, _ := f.do(t, auditor, http.MethodGet, "/guards", ""); code != 200 || len(out["guards"].([]any)) != 1 || out["settings"].(map[string]any)["sensitivity"] != "high" {
		t.Errorf("auditor list: HTTP %d %v", code, out)
	}
	for _, r := range []struct{ m, path, body string }{
		{http.MethodPost, "/guards?name=x", "x"}, {http.MethodPut, "/guards/settings", `{}`}, {http.MethodPatch, "/guards/tool-call-guard", `{}`},
	} {
		if code, _, _ := f.do(t, auditor, r.m, r.path, r.body); code != 403 {
			t.Errorf("auditor %s %s: HTTP %d", r.m, r.path, code)
		}
	}
	if code, _, _ := f.do(t, member, http.MethodGet, "/guards", ""); code != 403 {
		t.Errorf("member list: HTTP %d", code)
	}
	acts := f.auditActions(t)
	for _, want := range []string{"guard.upload acme-dlp", "guard.update tool-call-guard", "guard.settings ", "guard.delete acme-dlp"} {
		if !slices.Contains(acts, want) {
			t.Errorf("audit lacks %q: %v", want, acts)
		}
	}
}

// fakePins reports one held tool for every connector.
type fakePins struct{ approved []string }

func (f *fakePins) Scan(_ context.Context, c *connector.Connector) (toolguard.ToolScan, error) {
	return toolguard.ToolScan{Connector: c.Slug, Tools: []toolguard.ToolState{
		{Name: "ok", Hash: "h1", PinnedHash: "h1", Status: toolguard.ToolApproved, Verdict: "allow"},
		{Name: "bad", Hash: "h2", Status: toolguard.ToolHeldFlagged, Verdict: "block", Score: 0.9, Reasons: []string{"hidden-instructions: x"}},
	}}, nil
}

func (f *fakePins) Approve(_ context.Context, c *connector.Connector, tool string) (toolguard.ToolState, error) {
	if tool != "bad" && tool != "ok" {
		return toolguard.ToolState{}, toolguard.ErrNoSuchTool
	}
	f.approved = append(f.approved, c.Slug+"/"+tool)
	return toolguard.ToolState{Name: tool, Hash: "h2", PinnedHash: "h2", Status: toolguard.ToolApproved, Verdict: "block"}, nil
}

func TestToolPinEndpoints(t *testing.T) {
	f := newFixture(t)
	pins := &fakePins{}
	f.api.Pins = pins
	if code, out, _ := f.do(t, admin, http.MethodPost, "/catalog/time/connectors", `{}`); code != 201 {
		t.Fatalf("add: %d %v", code, out)
	}
	code, out, _ := f.do(t, member, http.MethodGet, "/connectors/time/tools", "")
	if code != 200 || len(out["tools"].([]any)) != 2 {
		t.Fatalf("tools: HTTP %d %v", code, out)
	}
	_, card, _ := f.do(t, member, http.MethodGet, "/catalog/time", "")
	if scans := card["scans"].([]any); len(scans) != 1 || scans[0].(map[string]any)["held"] != float64(1) {
		t.Errorf("card scans %v", card["scans"])
	}
	if code, _, _ := f.do(t, member, http.MethodPost, "/connectors/time/tools/bad/approve", ""); code != 403 {
		t.Errorf("member approve: HTTP %d", code)
	}
	if code, out, _ := f.do(t, admin, http.MethodPost, "/connectors/time/tools/bad/approve", ""); code != 200 || out["status"] != "approved" {
		t.Errorf("approve: HTTP %d %v", code, out)
	}
	if code, _, _ := f.do(t, admin, http.MethodPost, "/connectors/time/tools/nope/approve", ""); code != 404 {
		t.Errorf("unknown tool: HTTP %d", code)
	}
	if code, _, _ := f.do(t, admin, http.MethodPost, "/connectors/time/tools/scan", ""); code != 404 {
		t.Errorf("scan without a scanner: HTTP %d", code)
	}
	if len(pins.approved) != 1 || !slices.Contains(f.auditActions(t), "tool.approve time") {
		t.Errorf("approved %v, audit %v", pins.approved, f.auditActions(t))
	}
}
