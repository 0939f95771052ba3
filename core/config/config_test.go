package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env is a lookup function over a fixed map, so tests never read the real environment.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadDefaults(t *testing.T) {
	tests := []struct {
		name string
		file string // "-" means no file
	}{
		{"no file gives the defaults", "-"},
		{"an empty file gives the defaults", ""},
		{"a file of comments gives the defaults", "# nothing set yet\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "-" {
				path = writeFile(t, tt.file)
			}
			got, err := Load(path, env(nil))
			if err != nil {
				t.Fatalf("Load = %v", err)
			}
			if want := Default(); !reflect.DeepEqual(got, want) {
				t.Errorf("Load = %+v, want the defaults %+v", got, want)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	path := writeFile(t, `
listen: 0.0.0.0:9090
data_dir: /var/lib/gatehouse
admin_token: 0123456789abcdef0123
public_url: https://gw.example.com/
log:
  format: console
  level: debug
client_auth:
  mode: none
  anonymous_user: dev
  public: true
upstream:
  call_timeout: 30s
  session_idle_timeout: 1h
  allow_private_networks: true
  max_message_bytes: 2048
http:
  max_body_bytes: 4096
  allowed_origins: [https://app.example.com]
connectors:
  - name: Everything
    slug: everything
    transport: stdio
    command: npx
    args: [-y, "@modelcontextprotocol/server-everything"]
    env: {DEBUG: "1"}
    status: active
`)
	got, err := Load(path, env(nil))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen is read", got.Listen, "0.0.0.0:9090"},
		{"data_dir is read", got.DataDir, "/var/lib/gatehouse"},
		{"admin_token is read", got.AdminToken, "0123456789abcdef0123"},
		{"log.format is read", got.Log.Format, "console"},
		{"log.level is read", got.Log.Level, "debug"},
		{"client_auth is read", got.ClientAuth, ClientAuthConfig{Mode: "none", AnonymousUser: "dev", AnonymousRoles: []string{"member"}, Public: true}},
		{"durations are read", [2]time.Duration{got.Upstream.CallTimeout, got.Upstream.SessionIdleTimeout}, [2]time.Duration{30 * time.Second, time.Hour}},
		{"allow_private_networks is read", got.Upstream.AllowPrivateNetworks, true},
		{"max_message_bytes is read", got.Upstream.MaxMessageBytes, 2048},
		{"http settings are read", got.HTTP.MaxBodyBytes, 4096},
		{"allowed_origins are read", strings.Join(got.HTTP.AllowedOrigins, ","), "https://app.example.com"},
		{"seed connectors are read", got.Connectors[0].Args[1], "@modelcontextprotocol/server-everything"},
		{"seed connector env is read", got.Connectors[0].Env["DEBUG"], "1"},
		{"the MCP URL comes from public_url", got.MCPURL(), "https://gw.example.com/mcp"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
	t.Run("a partial file keeps the other defaults", func(t *testing.T) {
		got, err := Load(writeFile(t, "log:\n  level: warn\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		want := Default()
		want.Log.Level = "warn"
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Load = %+v, want %+v", got, want)
		}
	})
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		mention string // what the error must name
	}{
		{"an unknown top-level key is named", "listn: 127.0.0.1:1\n", nil, "listn"},
		{"an unknown key is named with the keys allowed there, not a Go type", "listen_addr: 127.0.0.1:1\n", nil, "unknown key listen_addr (allowed here: listen, data_dir,"},
		{"an unknown nested key lists its section's keys", "log:\n  lvl: debug\n", nil, "unknown key lvl (allowed here: format, level)"},
		{"an unknown nested key is named", "log:\n  lvl: debug\n", nil, "lvl"},
		{"an unknown key in a seed connector is named", "connectors:\n  - name: x\n    comand: y\n", nil, "comand"},
		{"a value of the wrong type is refused", "upstream:\n  max_message_bytes: lots\n", nil, "lots"},
		{"YAML that does not parse is refused", "listen: [\n", nil, "line"},
		{"a listen address without a port is named", "listen: localhost\n", nil, "listen"},
		{"an empty data_dir is named", "data_dir: \"\"\n", nil, "data_dir"},
		{"an unknown log format is named", "log:\n  format: xml\n", nil, "log.format"},
		{"an unknown log level is named", "log:\n  level: loud\n", nil, "log.level"},
		{"an unknown client auth mode is named", "client_auth:\n  mode: magic\n", nil, "client_auth.mode"},
		{"anonymous mode without a user is named", "client_auth:\n  mode: none\n  anonymous_user: \"\"\n", nil, "client_auth.anonymous_user"},
		{"a zero call timeout is named", "upstream:\n  call_timeout: 0s\n", nil, "upstream.call_timeout"},
		{"a negative idle timeout is named", "upstream:\n  session_idle_timeout: -1m\n", nil, "upstream.session_idle_timeout"},
		{"a tiny message limit is named", "upstream:\n  max_message_bytes: 10\n", nil, "upstream.max_message_bytes"},
		{"a tiny body limit is named", "http:\n  max_body_bytes: 10\n", nil, "http.max_body_bytes"},
		{"an allowed command with arguments is named", "stdio:\n  allowed_commands: [\"files-mcp --all\"]\n", nil, "stdio.allowed_commands[0]"},
		{"a relative allowed command path is named", "stdio:\n  allowed_commands: [/usr/bin/ok, bin/files-mcp]\n", nil, "stdio.allowed_commands[1]"},
		{"a non-boolean config-only override is named", "", map[string]string{"GATEHOUSE_STDIO_CONFIG_ONLY": "perhaps"}, "GATEHOUSE_STDIO_CONFIG_ONLY"},
		{"an unknown audit commit mode is named", "audit:\n  commit: lazy\n", nil, "audit.commit"},
		{"a tiny guard upload limit is named", "http:\n  max_guard_upload_bytes: 10\n", nil, "http.max_guard_upload_bytes"},
		{"a short admin token is named", "admin_token: short\n", nil, "admin_token"},
		{"a short admin token from the environment is named", "", map[string]string{"GATEHOUSE_ADMIN_TOKEN": "short"}, "admin_token"},
		{"a bad log level from the environment is named", "", map[string]string{"GATEHOUSE_LOG_LEVEL": "loud"}, "log.level"},
		{"an approval timeout as long as the call timeout is named", "upstream:\n  call_timeout: 30s\npolicies:\n  approval_timeout: 30s\n", nil, "policies.approval_timeout"},
		{"a negative approval timeout is named", "policies:\n  approval_timeout: -1s\n", nil, "policies.approval_timeout"},
		{"a bad anonymous role is named", "client_auth:\n  anonymous_roles: [\"a b\"]\n", nil, "client_auth.anonymous_roles"},
		{"an unknown key in a seed rule is named", "policies:\n  rules:\n    - id: x\n      efect: allow\n", nil, "efect"},
		{"anonymous clients on all interfaces are refused", "listen: 0.0.0.0:8080\nclient_auth:\n  mode: none\n", nil, "client_auth.public"},
		{"anonymous clients on a LAN address are refused", "listen: 192.168.1.5:8080\nclient_auth:\n  mode: none\n", nil, "client_auth.mode"},
		{"anonymous clients on a host name are refused", "listen: gw.internal:8080\nclient_auth:\n  mode: none\n", nil, "client_auth.mode"},
		{"anonymous clients on an IPv6 wildcard are refused", "", map[string]string{"GATEHOUSE_LISTEN": "[::]:8080", "GATEHOUSE_CLIENT_AUTH": "none"}, "client_auth.mode"},
		{"pprof on all interfaces is refused", "pprof_listen: 0.0.0.0:6060\n", nil, "pprof_public"},
		{"pprof from the environment on a public address is refused", "", map[string]string{"GATEHOUSE_PPROF_LISTEN": ":6060"}, "pprof_listen"},
		{"pprof without a port is named", "pprof_listen: localhost\n", nil, "pprof_listen"},
		{"a non-boolean public override is named", "", map[string]string{"GATEHOUSE_PPROF_PUBLIC": "sure"}, "GATEHOUSE_PPROF_PUBLIC"},
		{"a non-boolean private-upstreams override is named", "", map[string]string{"GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS": "maybe"}, "GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS"},
		{"a negative limit is named", "limits:\n  sessions_per_user: -1\n", nil, "limits.sessions_per_user"},
		{"an OIDC provider over http is named", "oauth:\n  oidc:\n    issuer: http://idp.example\n    client_id: gw\n", nil, "oauth.oidc.issuer"},
		{"an OIDC provider without a client is named", "oauth:\n  oidc:\n    issuer: https://idp.example\n", nil, "oauth.oidc.client_id"},
		{"an enterprise IdP without an issuer is named", "oauth:\n  enterprise_idps:\n    - jwks_uri: https://idp.example/keys\n", nil, "oauth.enterprise_idps[0].issuer"},
		{"an enterprise IdP's keys over http are named", "oauth:\n  enterprise_idps:\n    - issuer: https://idp.example\n      jwks_uri: http://idp.example/keys\n", nil, "oauth.enterprise_idps[0].jwks_uri"},
		{"an unknown enterprise IdP user claim is named", "oauth:\n  enterprise_idps:\n    - issuer: https://idp.example\n      jwks_uri: https://idp.example/keys\n      user_claim: name\n", nil, "user_claim"},
		{"a zero name cap is named", "limits:\n  name_max_bytes: 0\n", nil, "limits.name_max_bytes"},
		{"a zero URI cap is named", "limits:\n  uri_max_bytes: 0\n", nil, "limits.uri_max_bytes"},
		{"a zero tool label bound is named", "limits:\n  tool_labels_per_connector: 0\n", nil, "limits.tool_labels_per_connector"},
		{"an unknown limit is named", "limits:\n  sessions_per_usr: 3\n", nil, "sessions_per_usr"},
		{"a zero offload threshold is named", "offload:\n  threshold_bytes: 0\n", nil, "offload.threshold_bytes"},
		{"a negative offload TTL is named", "offload:\n  ttl: -1s\n", nil, "offload.ttl"},
		{"a zero user offload quota is named", "offload:\n  user_quota_bytes: 0\n", nil, "offload.user_quota_bytes"},
		{"a zero total offload quota is named", "offload:\n  total_quota_bytes: 0\n", nil, "offload.total_quota_bytes"},
		{"a preview as large as the threshold is named", "offload:\n  threshold_bytes: 100\n  preview_bytes: 100\n", nil, "offload.preview_bytes"},
		{"an unknown offload key is named", "offload:\n  ttll: 1s\n", nil, "ttll"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tt.file), env(tt.env))
			if err == nil {
				t.Fatal("Load accepted the configuration")
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
	t.Run("a missing file is an error naming it", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "absent.yaml")
		_, err := Load(path, env(nil))
		if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
			t.Errorf("Load = %v, want a not-exist error naming %s", err, path)
		}
	})
}

func TestLimits(t *testing.T) {
	t.Run("the defaults bound everything", func(t *testing.T) {
		want := LimitsConfig{SessionsPerUser: 32, SessionsPerConnector: 256, STDIOProcessesPerUser: 8, STDIOProcessesPerConnector: 64,
			InflightPerUser: 64, InflightPerConnector: 256, NameMaxBytes: 256, URIMaxBytes: 2048, ToolLabelsPerConnector: 512}
		if got := Default().Limits; got != want {
			t.Errorf("default limits %+v, want %+v", got, want)
		}
	})
	t.Run("a file sets some limits and keeps the others; 0 switches a count off", func(t *testing.T) {
		got, err := Load(writeFile(t, "limits:\n  sessions_per_user: 2\n  inflight_per_connector: 0\n  name_max_bytes: 64\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		want := DefaultLimits()
		want.SessionsPerUser, want.InflightPerConnector, want.NameMaxBytes = 2, 0, 64
		if got.Limits != want {
			t.Errorf("limits %+v, want %+v", got.Limits, want)
		}
	})
}

func TestEnvOverrides(t *testing.T) {
	file := writeFile(t, `
listen: 127.0.0.1:7000
data_dir: /from/file
admin_token: file-token-0123456789
log:
  format: json
  level: info
client_auth:
  mode: token
upstream:
  allow_private_networks: false
`)
	tests := []struct {
		name string
		env  map[string]string
		get  func(Config) any
		want any
	}{
		{"GATEHOUSE_LISTEN wins over the file", map[string]string{"GATEHOUSE_LISTEN": "0.0.0.0:8000"}, func(c Config) any { return c.Listen }, "0.0.0.0:8000"},
		{"GATEHOUSE_DATA_DIR wins over the file", map[string]string{"GATEHOUSE_DATA_DIR": "/from/env"}, func(c Config) any { return c.DataDir }, "/from/env"},
		{"GATEHOUSE_ADMIN_TOKEN wins over the file", map[string]string{"GATEHOUSE_ADMIN_TOKEN": "env-token-0123456789"}, func(c Config) any { return c.AdminToken }, "env-token-0123456789"},
		{"GATEHOUSE_SECRET_KEY is applied", map[string]string{"GATEHOUSE_SECRET_KEY": "k"}, func(c Config) any { return c.SecretKey }, "k"},
		{"GATEHOUSE_PUBLIC_URL is applied", map[string]string{"GATEHOUSE_PUBLIC_URL": "https://gw"}, func(c Config) any { return c.PublicURL }, "https://gw"},
		{"GATEHOUSE_LOG_FORMAT wins over the file", map[string]string{"GATEHOUSE_LOG_FORMAT": "console"}, func(c Config) any { return c.Log.Format }, "console"},
		{"GATEHOUSE_LOG_LEVEL wins over the file", map[string]string{"GATEHOUSE_LOG_LEVEL": "error"}, func(c Config) any { return c.Log.Level }, "error"},
		{"GATEHOUSE_CLIENT_AUTH wins over the file", map[string]string{"GATEHOUSE_CLIENT_AUTH": "none"}, func(c Config) any { return c.ClientAuth.Mode }, "none"},
		{"GATEHOUSE_ANONYMOUS_USER is applied", map[string]string{"GATEHOUSE_ANONYMOUS_USER": "me"}, func(c Config) any { return c.ClientAuth.AnonymousUser }, "me"},
		{"GATEHOUSE_STDIO_CONFIG_ONLY is applied", map[string]string{"GATEHOUSE_STDIO_CONFIG_ONLY": "true"}, func(c Config) any { return c.STDIO.ConfigOnly }, true},
		{"GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS wins over the file", map[string]string{"GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS": "true"}, func(c Config) any { return c.Upstream.AllowPrivateNetworks }, true},
		{"an empty variable leaves the file's value", map[string]string{"GATEHOUSE_LISTEN": ""}, func(c Config) any { return c.Listen }, "127.0.0.1:7000"},
		{"without variables the file's value stays", nil, func(c Config) any { return c.DataDir }, "/from/file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(file, env(tt.env))
			if err != nil {
				t.Fatalf("Load = %v", err)
			}
			if v := tt.get(got); v != tt.want {
				t.Errorf("got %v, want %v", v, tt.want)
			}
		})
	}
	t.Run("overrides apply without a file", func(t *testing.T) {
		got, err := Load("", env(map[string]string{"GATEHOUSE_LISTEN": "127.0.0.1:1"}))
		if err != nil || got.Listen != "127.0.0.1:1" {
			t.Errorf("Load = %+v, %v", got, err)
		}
	})
}

func TestMCPURL(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"the listen address gives the URL", Config{Listen: "127.0.0.1:8080"}, "http://127.0.0.1:8080/mcp"},
		{"a public URL wins", Config{Listen: "0.0.0.0:80", PublicURL: "https://gw.example.com"}, "https://gw.example.com/mcp"},
		{"trailing slashes of the public URL are dropped", Config{PublicURL: "https://gw.example.com//"}, "https://gw.example.com/mcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.MCPURL(); got != tt.want {
				t.Errorf("MCPURL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEffectiveApprovalTimeout(t *testing.T) {
	tests := []struct {
		name             string
		call, configured time.Duration
		want             time.Duration
	}{
		{"unset: a minute", 2 * time.Minute, 0, time.Minute},
		{"unset with a short call timeout: half of it", 30 * time.Second, 0, 15 * time.Second},
		{"configured", 2 * time.Minute, 90 * time.Second, 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Upstream.CallTimeout, c.Policies.ApprovalTimeout = tt.call, tt.configured
			if got := c.EffectiveApprovalTimeout(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPublicExposureIsExplicit(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		want int // exposures warned about
	}{
		{"anonymous clients on loopback need nothing", "client_auth:\n  mode: none\n", nil, 0},
		{"anonymous clients on localhost need nothing", "listen: localhost:8080\nclient_auth:\n  mode: none\n", nil, 0},
		{"anonymous clients on IPv6 loopback need nothing", "listen: '[::1]:8080'\nclient_auth:\n  mode: none\n", nil, 0},
		{"tokens on all interfaces need nothing", "listen: 0.0.0.0:8080\n", nil, 0},
		{"pprof on loopback needs nothing", "pprof_listen: 127.0.0.1:6060\n", nil, 0},
		{"anonymous clients on all interfaces with the setting are warned about", "listen: 0.0.0.0:8080\nclient_auth:\n  mode: none\n  public: true\n", nil, 1},
		{"pprof in public with the setting from the environment is warned about", "pprof_listen: 0.0.0.0:6060\n", map[string]string{"GATEHOUSE_PPROF_PUBLIC": "true"}, 1},
		{"both are warned about", "listen: 0.0.0.0:8080\nclient_auth:\n  mode: none\n  public: true\npprof_listen: ':6060'\npprof_public: true\n", nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(writeFile(t, tt.file), env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.PublicExposures(); len(got) != tt.want {
				t.Errorf("PublicExposures() = %q, want %d", got, tt.want)
			}
		})
	}
}

// FuzzParse: no YAML makes the config parser panic, and every refusal
// wraps ErrInvalid.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"listen: 127.0.0.1:1\n", "log:\n  lvl: x\n", "connectors:\n  - name: x\n", "limits: [\n", "a: &a [*a]\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Default()
		if err := Parse(data, &cfg); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}
	})
}
