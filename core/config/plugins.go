package config

import (
	"fmt"
	"regexp"
	"time"
)

// PluginsConfig loads go-plugin transport and auth plugins
// (docs/plugins.md). Each plugin runs as one process, started once and
// shared, health-checked and restarted after a crash.
type PluginsConfig struct {
	// Dir is where plugin executables are discovered (files named
	// gatehouse-plugin-*; the admin API lists those not configured); a
	// relative list[].path is resolved against it.
	Dir string `yaml:"dir"`
	// CallTimeout bounds one call into a plugin: an authentication, a
	// session's open, the wait for a transport's next message of a request.
	CallTimeout time.Duration `yaml:"call_timeout"`
	// HealthInterval is how often each running plugin is health-checked.
	HealthInterval time.Duration `yaml:"health_interval"`
	// RestartBackoffMax caps the wait before restarting a crashed plugin
	// (the wait starts at 250ms and doubles).
	RestartBackoffMax time.Duration `yaml:"restart_backoff_max"`
	// List names the plugins to load.
	List []PluginConfig `yaml:"list"`
}

// PluginConfig is one plugin to load.
type PluginConfig struct {
	// Name identifies the plugin in errors, logs and the admin API.
	Name string `yaml:"name"`
	// Kind is transport or auth.
	Kind string `yaml:"kind"`
	// Path is the executable, absolute or relative to plugins.dir.
	Path string `yaml:"path"`
	// SHA256 is the executable's expected checksum (hex); a plugin whose
	// file does not match is not started.
	SHA256 string `yaml:"sha256"`
	// Transport is the transport name a transport plugin serves
	// connectors under (default: the plugin's name).
	Transport string `yaml:"transport"`
	// Settings are passed to the plugin process (sdk/plugin reads them).
	Settings map[string]string `yaml:"settings"`
}

// DefaultPlugins are the plugin supervision defaults.
func DefaultPlugins() PluginsConfig {
	return PluginsConfig{CallTimeout: 30 * time.Second, HealthInterval: 5 * time.Second, RestartBackoffMax: 30 * time.Second}
}

var (
	pluginNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	sha256Pattern     = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func (p *PluginsConfig) validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%w: plugins.%s: %s", ErrInvalid, key, fmt.Sprintf(format, args...))
	}
	if p.CallTimeout <= 0 {
		return bad("call_timeout", "must be positive")
	}
	if p.HealthInterval <= 0 {
		return bad("health_interval", "must be positive")
	}
	if p.RestartBackoffMax <= 0 {
		return bad("restart_backoff_max", "must be positive")
	}
	names, transports := map[string]bool{}, map[string]bool{}
	for i, pl := range p.List {
		key := fmt.Sprintf("list[%d]", i)
		switch {
		case !pluginNamePattern.MatchString(pl.Name):
			return bad(key+".name", "%q must be 1-32 lowercase letters, digits or dashes, starting with a letter", pl.Name)
		case names[pl.Name]:
			return bad(key+".name", "%q is configured twice", pl.Name)
		case pl.Kind != "transport" && pl.Kind != "auth":
			return bad(key+".kind", "%q is not one of transport, auth", pl.Kind)
		case pl.Path == "":
			return bad(key+".path", "is required")
		case !sha256Pattern.MatchString(pl.SHA256):
			return bad(key+".sha256", "must be the executable's SHA-256 as 64 lowercase hex digits (sha256sum prints it)")
		case pl.Transport != "" && pl.Kind != "transport":
			return bad(key+".transport", "is only for transport plugins")
		}
		names[pl.Name] = true
		if pl.Kind == "transport" {
			t := pl.Transport
			if t == "" {
				t = pl.Name
			}
			switch {
			case !pluginNamePattern.MatchString(t):
				return bad(key+".transport", "%q must be 1-32 lowercase letters, digits or dashes, starting with a letter", t)
			case t == "stdio" || t == "sse" || t == "streamable-http":
				return bad(key+".transport", "%q is a built-in transport", t)
			case transports[t]:
				return bad(key+".transport", "%q is served by two plugins", t)
			}
			transports[t] = true
		}
	}
	return nil
}
