// Package host runs the gateway's go-plugin plugins: it discovers them
// (plugins.dir and plugins.list), verifies each executable's SHA-256
// before every start, starts each once and shares it, health-checks it,
// restarts it with backoff after a crash, and adapts the versioned gRPC
// interfaces to the gateway's seams: a transport plugin is a proxy.Dialer
// under its transport name, an auth plugin an auth.Provider.
//
// A plugin that is down or hung fails its calls with an *Error naming it
// (JSON-RPC code CodePluginFailed); it never takes the gateway down.
package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/config"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
	"github.com/gatehouse-mcp/gatehouse/plugins/wire"
)

// FilePrefix starts the file name of a plugin executable that discovery
// finds in plugins.dir.
const FilePrefix = "gatehouse-plugin-"

// Config is what the host runs.
type Config struct {
	// Dir is scanned for executables named FilePrefix*; "" scans nothing.
	Dir   string
	Specs []Spec
	Supervision
}

// FromConfig resolves the gateway config's plugins section.
func FromConfig(c config.PluginsConfig) Config {
	out := Config{Dir: c.Dir, Supervision: Supervision{
		CallTimeout: c.CallTimeout, HealthInterval: c.HealthInterval,
		RestartBackoffMin: 250 * time.Millisecond, RestartBackoffMax: c.RestartBackoffMax,
	}}
	for _, p := range c.List {
		path := p.Path
		if !filepath.IsAbs(path) && c.Dir != "" {
			path = filepath.Join(c.Dir, path)
		}
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		t := p.Transport
		if p.Kind == wire.KindTransport && t == "" {
			t = p.Name
		}
		out.Specs = append(out.Specs, Spec{Name: p.Name, Kind: p.Kind, Path: path, SHA256: p.SHA256, Transport: t, Settings: p.Settings})
	}
	return out
}

// Host supervises the configured plugins.
type Host struct {
	cfg     Config
	log     zerolog.Logger
	plugins []*Plugin

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New prepares the plugins; nothing runs before Start.
func New(cfg Config, log zerolog.Logger) *Host {
	if cfg.RestartBackoffMin <= 0 {
		cfg.RestartBackoffMin = 250 * time.Millisecond
	}
	if cfg.RestartBackoffMax < cfg.RestartBackoffMin {
		cfg.RestartBackoffMax = cfg.RestartBackoffMin
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = cfg.CallTimeout
	}
	h := &Host{cfg: cfg, log: log}
	for _, s := range cfg.Specs {
		h.plugins = append(h.plugins, newPlugin(s, cfg.Supervision, log))
	}
	return h
}

// Start starts every plugin and waits until each has run or failed its
// first start (a plugin that fails keeps being restarted in the
// background; its calls fail meanwhile). Close stops them.
func (h *Host) Start(ctx context.Context) {
	runCtx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	for _, p := range h.plugins {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			p.run(runCtx)
		}()
	}
	for _, p := range h.plugins {
		select {
		case <-p.firstDone:
		case <-ctx.Done():
			return
		}
	}
}

// Close stops every plugin process and waits for the supervisors.
func (h *Host) Close() {
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
}

// Plugin returns the configured plugin called name.
func (h *Host) Plugin(name string) (*Plugin, bool) {
	for _, p := range h.plugins {
		if p.spec.Name == name {
			return p, true
		}
	}
	return nil, false
}

// List reports the configured plugins and, after them, the executables
// found in the plugins directory that are not configured.
func (h *Host) List() []Status {
	out := make([]Status, 0, len(h.plugins))
	configured := map[string]bool{}
	for _, p := range h.plugins {
		out = append(out, p.Status())
		configured[p.spec.Path] = true
	}
	return append(out, h.discover(configured)...)
}

func (h *Host) discover(configured map[string]bool) []Status {
	if h.cfg.Dir == "" {
		return nil
	}
	entries, err := os.ReadDir(h.cfg.Dir)
	if err != nil {
		return []Status{{Name: filepath.Base(h.cfg.Dir), State: StateUnconfigured, Path: h.cfg.Dir,
			LastError: fmt.Sprintf("cannot read plugins.dir: %v", err)}}
	}
	var out []Status
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), FilePrefix) {
			continue
		}
		path, _ := filepath.Abs(filepath.Join(h.cfg.Dir, e.Name()))
		if configured[path] {
			continue
		}
		st := Status{Name: strings.TrimPrefix(e.Name(), FilePrefix), Path: path, State: StateUnconfigured,
			LastError: "found in plugins.dir but not in plugins.list; add it with its kind and sha256 to load it"}
		if sum, err := fileSHA256(path); err == nil {
			st.SHA256 = sum
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Dialers are the transport plugins, by transport name, for
// proxy.Options.Dialers.
func (h *Host) Dialers() map[connector.Transport]proxy.Dialer {
	out := map[connector.Transport]proxy.Dialer{}
	for _, p := range h.plugins {
		if p.spec.Kind == wire.KindTransport {
			out[connector.Transport(p.spec.Transport)] = transportDialer{p: p}
		}
	}
	return out
}

// Transports lists the transport names the plugins serve, sorted.
func (h *Host) Transports() []string {
	var out []string
	for _, p := range h.plugins {
		if p.spec.Kind == wire.KindTransport {
			out = append(out, p.spec.Transport)
		}
	}
	sort.Strings(out)
	return out
}

// Providers are the auth plugins, in config order, for
// auth.Authenticator.WithProviders.
func (h *Host) Providers() []auth.Provider {
	var out []auth.Provider
	for _, p := range h.plugins {
		if p.spec.Kind == wire.KindAuth {
			out = append(out, authProvider{p: p})
		}
	}
	return out
}
