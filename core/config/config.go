// Package config loads the gateway's YAML configuration, applies defaults
// and the GATEHOUSE_* environment overrides of the Contract, and validates
// the result. Unknown keys are errors that name the key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole gateway configuration.
type Config struct {
	// Listen is the address the gateway serves on.
	Listen string `yaml:"listen"`
	// DataDir holds the Badger state and the generated secret key.
	DataDir string `yaml:"data_dir"`
	// AdminToken is the bootstrap owner token; generated when empty on a
	// fresh data dir. Prefer GATEHOUSE_ADMIN_TOKEN over writing it here.
	AdminToken string `yaml:"admin_token"`
	// SecretKey encrypts secrets at rest (32 bytes, base64 or hex).
	SecretKey string `yaml:"secret_key"`
	// PublicURL is how clients reach the gateway (for logs and setup
	// snippets); derived from Listen when empty.
	PublicURL  string           `yaml:"public_url"`
	Log        LogConfig        `yaml:"log"`
	ClientAuth ClientAuthConfig `yaml:"client_auth"`
	Upstream   UpstreamConfig   `yaml:"upstream"`
	HTTP       HTTPConfig       `yaml:"http"`
	Audit      AuditConfig      `yaml:"audit"`
	Guards     GuardsConfig     `yaml:"guards"`
	Policies   PoliciesConfig   `yaml:"policies"`
	STDIO      STDIOConfig      `yaml:"stdio"`
	Limits     LimitsConfig     `yaml:"limits"`
	Plugins    PluginsConfig    `yaml:"plugins"`
	ToolSearch ToolSearchConfig `yaml:"tool_search"`
	Offload    OffloadConfig    `yaml:"offload"`
	OAuth      OAuthConfig      `yaml:"oauth"`
	// PprofListen, when set, serves Go's profiling endpoints on that
	// address; off by default. It must be a loopback address unless
	// PprofPublic is set (the profiles show memory and call arguments).
	PprofListen string `yaml:"pprof_listen"`
	// PprofPublic accepts a non-loopback pprof_listen ("I know this is
	// public"); the gateway then logs a warning at every start.
	PprofPublic bool `yaml:"pprof_public"`
	// ShutdownGrace is how long a stop (SIGTERM, SIGINT) lets calls in
	// flight finish before ending them; new work is refused meanwhile
	// (default 30s).
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// Connectors are created at start when no connector with the slug
	// exists yet (seeding a fresh install, e.g. the demo connector).
	Connectors []SeedConnector `yaml:"connectors"`
}

// STDIOConfig controls who may make the gateway run programs through the
// admin API: a STDIO connector's command, args and env execute on the
// gateway host. Connectors in this file are not affected.
type STDIOConfig struct {
	// ConfigOnly refuses creating STDIO connectors, and changing their
	// command, args or env, through the API, for owners too.
	ConfigOnly bool `yaml:"config_only"`
	// AllowedCommands may be set by anyone who may write connectors (exact
	// absolute paths, or bare names matching a bare command); other
	// commands need the connectors/commands permission (owners). Each
	// entry runs with whatever args and env an admin gives it: list
	// servers, not shells, interpreters or package runners (npx, uvx).
	AllowedCommands []string `yaml:"allowed_commands"`
}

// LogConfig selects log format and level.
type LogConfig struct {
	Format string `yaml:"format"` // json | console
	Level  string `yaml:"level"`  // debug | info | warn | error
}

// ClientAuthConfig controls how MCP clients authenticate.
type ClientAuthConfig struct {
	// Mode is "token" (bearer tokens required) or "none" (anonymous
	// clients act as AnonymousUser; for local use and test suites).
	Mode string `yaml:"mode"`
	// AnonymousUser is the user anonymous clients act as in mode none.
	AnonymousUser string `yaml:"anonymous_user"`
	// AnonymousRoles are the anonymous user's roles while no role is
	// bound to it in the admin API (default: member).
	AnonymousRoles []string `yaml:"anonymous_roles"`
	// Public accepts mode none on a listen address that is not loopback
	// ("I know this is public": anyone who reaches the port acts as
	// AnonymousUser); the gateway then logs a warning at every start.
	Public bool `yaml:"public"`
}

// PoliciesConfig configures tool policies.
type PoliciesConfig struct {
	// ApprovalTimeout is how long a call held by a require-approval rule
	// waits for a decision before it is denied; it must be shorter than
	// upstream.call_timeout (the held call counts against it). Zero: see
	// EffectiveApprovalTimeout.
	ApprovalTimeout time.Duration `yaml:"approval_timeout"`
	// Rules are tool rules added at start when no rule has their id (an
	// admin's later edits stand).
	Rules []SeedRule `yaml:"rules"`
}

// EffectiveApprovalTimeout is the approval timeout in force: the
// configured one, else a minute or half the call timeout, whichever is
// shorter (the held call then has time left to run).
func (c *Config) EffectiveApprovalTimeout() time.Duration {
	if c.Policies.ApprovalTimeout > 0 {
		return c.Policies.ApprovalTimeout
	}
	return min(time.Minute, c.Upstream.CallTimeout/2)
}

// SeedRule is a tool rule in the config file (core/policy.Rule); each
// field is the rule's field of that name (README, Tool policies).
type SeedRule struct {
	// ID names the rule; Subject (user:, role:, group: or *), Connector
	// (a slug or *), Kind (tool, prompt, resource or *), Name (a glob),
	// Actions (list, call, read), Effect (allow, deny, require-approval),
	// Condition (CEL over args) and Description as in the admin API.
	ID          string   `yaml:"id"`
	Subject     string   `yaml:"subject"`
	Connector   string   `yaml:"connector"`
	Kind        string   `yaml:"kind"`
	Name        string   `yaml:"name"`
	Actions     []string `yaml:"actions"`
	Effect      string   `yaml:"effect"`
	Condition   string   `yaml:"condition"`
	Description string   `yaml:"description"`
	// Approver is who approves a require-approval rule's calls: caller,
	// admin (the default) or role:<name>.
	Approver string `yaml:"approver"`
}

// UpstreamConfig bounds how the gateway talks to upstream servers.
type UpstreamConfig struct {
	// CallTimeout bounds one request to an upstream; progress
	// notifications restart it.
	CallTimeout time.Duration `yaml:"call_timeout"`
	// SessionIdleTimeout closes client sessions (and their upstream
	// sessions and STDIO processes) left idle this long.
	SessionIdleTimeout time.Duration `yaml:"session_idle_timeout"`
	// AllowPrivateNetworks lets connector URLs resolve to loopback,
	// private and link-local addresses (off: SSRF protection).
	AllowPrivateNetworks bool `yaml:"allow_private_networks"`
	// MaxMessageBytes bounds one upstream message.
	MaxMessageBytes int `yaml:"max_message_bytes"`
}

// HTTPConfig tunes the client-facing listener.
type HTTPConfig struct {
	// MaxBodyBytes bounds one client request body.
	MaxBodyBytes int `yaml:"max_body_bytes"`
	// MaxGuardUploadBytes bounds one guard module upload (default 32 MiB;
	// the admin API's other bodies are capped at 1 MiB).
	MaxGuardUploadBytes int `yaml:"max_guard_upload_bytes"`
	// AllowedOrigins lists browser origins allowed besides the gateway's
	// own and localhost ones (DNS-rebinding protection).
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// LimitsConfig bounds what one user and one connector may hold at once,
// and the names clients may send, so that no caller can exhaust the
// gateway. When a count is reached the client gets JSON-RPC error −31059
// naming the limit and its value; on a STDIO connector the user's least
// recently used idle session there is closed first to make room. A count
// of 0 switches that bound off (unlimited); none is off by default.
type LimitsConfig struct {
	// SessionsPerUser bounds a user's client sessions: on /mcp/{slug} and
	// /mcp (an aggregate session counts once), and those the gateway holds
	// for the user's 2026-07-28 requests to legacy upstreams. Default 32.
	SessionsPerUser int `yaml:"sessions_per_user"`
	// SessionsPerConnector bounds the upstream sessions open on one
	// connector, aggregate sessions' included. Default 256.
	SessionsPerConnector int `yaml:"sessions_per_connector"`
	// STDIOProcessesPerUser bounds the STDIO processes running for one
	// user. Default 8.
	STDIOProcessesPerUser int `yaml:"stdio_processes_per_user"`
	// STDIOProcessesPerConnector bounds the processes of one STDIO
	// connector. Default 64.
	STDIOProcessesPerConnector int `yaml:"stdio_processes_per_connector"`
	// InflightPerUser bounds one user's requests waiting for an answer
	// (held and parked calls included). Default 64.
	InflightPerUser int `yaml:"inflight_per_user"`
	// InflightPerConnector bounds the requests waiting for one connector.
	// Default 256.
	InflightPerConnector int `yaml:"inflight_per_connector"`
	// NameMaxBytes caps tool and prompt names in client requests (the
	// part after "{connector}__" on /mcp); longer ones are refused with
	// −32602 before anything records them. Default 256; must be positive.
	NameMaxBytes int `yaml:"name_max_bytes"`
	// URIMaxBytes caps resource URIs in client requests, likewise.
	// Default 2048; must be positive.
	URIMaxBytes int `yaml:"uri_max_bytes"`
	// ToolLabelsPerConnector bounds the distinct tool labels of one
	// connector in /metrics; further tools are counted as "_other" (and
	// tools never seen in a listing as "_unlisted"). Default 512; must be
	// positive.
	ToolLabelsPerConnector int `yaml:"tool_labels_per_connector"`
}

// DefaultLimits are the limits in force when the config file sets none.
func DefaultLimits() LimitsConfig {
	return LimitsConfig{
		SessionsPerUser: 32, SessionsPerConnector: 256,
		STDIOProcessesPerUser: 8, STDIOProcessesPerConnector: 64,
		InflightPerUser: 64, InflightPerConnector: 256,
		NameMaxBytes: 256, URIMaxBytes: 2048,
		ToolLabelsPerConnector: 512,
	}
}

// OffloadConfig sets tool output offloading: a tools/call result whose
// output (text, decoded binary and structured content together) is above
// a size is stored, sealed at rest, and answered with short previews and
// resource_links the same user reads back through resources/read on the
// same connector (docs/offload.md). A connector switches it off, or sets
// its own size, in advanced.offload_output and
// advanced.offload_threshold_bytes.
type OffloadConfig struct {
	// Enabled turns offloading on for every connector that does not
	// switch it off (default true).
	Enabled bool `yaml:"enabled"`
	// ThresholdBytes is the output size above which a result is
	// offloaded (default 10240).
	ThresholdBytes int `yaml:"threshold_bytes"`
	// PreviewBytes is how much of an offloaded text stays inline; blocks
	// no larger stay as they are (default 1024).
	PreviewBytes int `yaml:"preview_bytes"`
	// TTL is how long a stored output can be read back (default 1h);
	// expired outputs are removed and their links answer "expired".
	TTL time.Duration `yaml:"ttl"`
	// UserQuotaBytes bounds what is stored for one user at once (default
	// 256 MiB); TotalQuotaBytes for the whole gateway (default 4 GiB). An
	// output that would pass either is not relayed: the call answers a
	// tool error saying which quota is full, with the text previews.
	UserQuotaBytes  int64 `yaml:"user_quota_bytes"`
	TotalQuotaBytes int64 `yaml:"total_quota_bytes"`
}

// GuardsConfig tunes the ToolGuard host.
type GuardsConfig struct {
	// CacheDir keeps guards' compiled machine code (wazero's compilation
	// cache, keyed by module hash and wazero version, so safe to share):
	// default the user's cache directory, so restarts and several data
	// dirs compile each module once.
	CacheDir string `yaml:"cache_dir"`
}

// AuditConfig lists where audit entries are streamed besides the log
// itself.
type AuditConfig struct {
	// Commit says when a tools/call's entry is written: "sync" (default)
	// before its answer is relayed, so every answered call is on disk
	// even after a crash; "batched" after (group-written within about
	// 20 ms, no fsync on the call's path: a crash can lose the entries of
	// the last moments). Choose batched only when that window is
	// acceptable; docs/decisions.md has the measured cost of sync.
	Commit string `yaml:"commit"`
	// Sinks receive every audit entry besides the store (file, webhook,
	// syslog), each from its own durable queue.
	Sinks []SinkConfig `yaml:"sinks"`
}

// SinkConfig is one audit sink. Entries are queued in the store for each
// sink and delivered in order, retried until the sink accepts them.
type SinkConfig struct {
	// Name identifies the sink's queue; keep it stable across restarts.
	Name string `yaml:"name"`
	// Type is file, webhook or syslog.
	Type string `yaml:"type"`
	// file: JSON Lines at Path, rotated at MaxSizeMB, keeping MaxBackups
	// old files (compressed when Compress) for MaxAgeDays.
	Path       string `yaml:"path"`
	MaxSizeMB  int    `yaml:"max_size_mb"`
	MaxBackups int    `yaml:"max_backups"`
	MaxAgeDays int    `yaml:"max_age_days"`
	Compress   bool   `yaml:"compress"`
	// webhook: entries POSTed as a JSON array to URL with Headers.
	URL     string            `yaml:"url"`
	Headers map[string]string `yaml:"headers"`
	// syslog: Network (udp, tcp, unix, unixgram) and Address; Tag names
	// the program.
	Network string `yaml:"network"`
	Address string `yaml:"address"`
	Tag     string `yaml:"tag"`
	// IncludeSensitive sends entries about sensitive connectors in full;
	// by default they leave the gateway redacted.
	IncludeSensitive bool `yaml:"include_sensitive"`
	// Timeout bounds one delivery (default 10s); BatchSize how many
	// entries go at once (default 256).
	Timeout   time.Duration `yaml:"timeout"`
	BatchSize int           `yaml:"batch_size"`
}

// SeedConnector is a connector declared in the config file. Fields follow
// the admin API's JSON names.
type SeedConnector struct {
	// Name, Slug, Description, Transport (streamable-http, sse, stdio),
	// URL, Command, Args, Env, Headers and Status (active, disabled,
	// draft) as in POST /admin/v1/connectors; a config-file STDIO command
	// is the operator's and needs no permission.
	Name        string            `yaml:"name"`
	Slug        string            `yaml:"slug"`
	Description string            `yaml:"description"`
	Transport   string            `yaml:"transport"`
	URL         string            `yaml:"url"`
	Command     string            `yaml:"command"`
	Args        []string          `yaml:"args"`
	Env         map[string]string `yaml:"env"`
	Headers     map[string]string `yaml:"headers"`
	Status      string            `yaml:"status"`
}

// Default returns the configuration used when no file is given.
func Default() Config {
	return Config{
		Listen:        "127.0.0.1:8080",
		ShutdownGrace: 30 * time.Second,
		DataDir:       "./data",
		Log:           LogConfig{Format: "json", Level: "info"},
		Audit:         AuditConfig{Commit: "sync"},
		ClientAuth:    ClientAuthConfig{Mode: "token", AnonymousUser: "local", AnonymousRoles: []string{"member"}},
		Upstream: UpstreamConfig{
			CallTimeout:        2 * time.Minute,
			SessionIdleTimeout: 30 * time.Minute,
			MaxMessageBytes:    16 << 20,
		},
		HTTP:    HTTPConfig{MaxBodyBytes: 4 << 20, MaxGuardUploadBytes: 32 << 20},
		Limits:  DefaultLimits(),
		Plugins: DefaultPlugins(),
		Offload: OffloadConfig{Enabled: true, ThresholdBytes: 10 << 10, PreviewBytes: 1 << 10, TTL: time.Hour,
			UserQuotaBytes: 256 << 20, TotalQuotaBytes: 4 << 30},
		OAuth: DefaultOAuth()}
}

// Load reads path (empty: defaults only), then applies env overrides
// (a lookup function, os.LookupEnv in production) and validates.
func Load(path string, lookupEnv func(string) (string, bool)) (Config, error) {
	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		if err := Parse(data, &cfg); err != nil {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, lookupEnv); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Parse decodes YAML over cfg, rejecting unknown keys.
func Parse(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("%w: %s", ErrInvalid, yamlMessage(err))
	}
	return nil
}

// unknownField is how the YAML decoder words an unknown key.
var unknownField = regexp.MustCompile(`field (\S+) not found in type (\S+)`)

// yamlMessage rewords a decoding error for the person editing the file:
// an unknown key is named with the keys allowed where it stands, not the
// Go type it would have gone into.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	keys := allowedKeys()
	return unknownField.ReplaceAllStringFunc(msg, func(m string) string {
		sub := unknownField.FindStringSubmatch(m)
		allowed := keys[strings.TrimPrefix(sub[2], "config.")]
		if len(allowed) == 0 {
			return "unknown key " + sub[1]
		}
		return "unknown key " + sub[1] + " (allowed here: " + strings.Join(allowed, ", ") + ")"
	})
}

// allowedKeys maps each struct type of the configuration to its YAML keys.
func allowedKeys() map[string][]string {
	out := map[string][]string{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t.PkgPath() != reflect.TypeOf(Config{}).PkgPath() {
			return
		}
		if _, seen := out[t.Name()]; seen {
			return
		}
		out[t.Name()] = []string{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			out[t.Name()] = append(out[t.Name()], name)
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(Config{}))
	return out
}

// ErrInvalid wraps every configuration error.
var ErrInvalid = errors.New("invalid configuration")

// EnvOverrides are the Contract's environment variables and the YAML key
// each sets; a set, non-empty variable wins over the file. Values are
// read as the key's type: text, a boolean (true/false/1/0), a duration
// (30s, 2m) or a comma-separated list.
var EnvOverrides = []struct{ Name, Key string }{
	{"GATEHOUSE_LISTEN", "listen"},
	{"GATEHOUSE_DATA_DIR", "data_dir"},
	{"GATEHOUSE_ADMIN_TOKEN", "admin_token"},
	{"GATEHOUSE_SECRET_KEY", "secret_key"},
	{"GATEHOUSE_PUBLIC_URL", "public_url"},
	{"GATEHOUSE_LOG_FORMAT", "log.format"},
	{"GATEHOUSE_LOG_LEVEL", "log.level"},
	{"GATEHOUSE_CLIENT_AUTH", "client_auth.mode"},
	{"GATEHOUSE_CLIENT_AUTH_PUBLIC", "client_auth.public"},
	{"GATEHOUSE_ANONYMOUS_USER", "client_auth.anonymous_user"},
	{"GATEHOUSE_ANONYMOUS_ROLES", "client_auth.anonymous_roles"},
	{"GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS", "upstream.allow_private_networks"},
	{"GATEHOUSE_GUARD_CACHE_DIR", "guards.cache_dir"},
	{"GATEHOUSE_STDIO_CONFIG_ONLY", "stdio.config_only"},
	{"GATEHOUSE_PPROF_LISTEN", "pprof_listen"},
	{"GATEHOUSE_PPROF_PUBLIC", "pprof_public"},
	{"GATEHOUSE_SHUTDOWN_GRACE", "shutdown_grace"},
	{"GATEHOUSE_AUDIT_COMMIT", "audit.commit"},
	{"GATEHOUSE_OAUTH_OIDC_CLIENT_SECRET", "oauth.oidc.client_secret"},
}

// applyEnv applies EnvOverrides found by lookup (os.LookupEnv in
// production).
func applyEnv(cfg *Config, lookup func(string) (string, bool)) error {
	for _, o := range EnvOverrides {
		v, ok := lookup(o.Name)
		if !ok || v == "" {
			continue
		}
		field, ok := fieldByKey(reflect.ValueOf(cfg).Elem(), o.Key)
		if !ok {
			return fmt.Errorf("%w: %s names no key %s", ErrInvalid, o.Name, o.Key)
		}
		if err := setText(field, v); err != nil {
			return fmt.Errorf("%w: %s: %q %v", ErrInvalid, o.Name, v, err)
		}
	}
	return nil
}

// fieldByKey finds the field a dotted YAML key names under v.
func fieldByKey(v reflect.Value, key string) (reflect.Value, bool) {
	for _, part := range strings.Split(key, ".") {
		found := false
		for i := range v.NumField() {
			if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); name == part {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}, false
		}
	}
	return v, true
}

var durationType = reflect.TypeOf(time.Duration(0))

// setText sets field from an environment variable's text.
func setText(field reflect.Value, v string) error {
	switch {
	case field.Type() == durationType:
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("is not a duration (e.g. 30s)")
		}
		field.SetInt(int64(d))
	case field.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("is not a boolean")
		}
		field.SetBool(b)
	case field.Kind() == reflect.String:
		field.SetString(v)
	case field.Kind() == reflect.Slice && field.Type().Elem().Kind() == reflect.String:
		field.Set(reflect.ValueOf(strings.Split(v, ",")))
	default:
		return fmt.Errorf("cannot be set from the environment (%s)", field.Type())
	}
	return nil
}

var roleName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// Validate checks every field, naming the first bad one.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, args...))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return bad("listen", "%q is not host:port", c.Listen)
	}
	if c.DataDir == "" {
		return bad("data_dir", "must not be empty")
	}
	if err := c.OAuth.validate(); err != nil {
		return err
	}
	switch c.Log.Format {
	case "json", "console":
	default:
		return bad("log.format", "%q is not one of json, console", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.ClientAuth.Mode {
	case "token", "none":
	default:
		return bad("client_auth.mode", "%q is not one of token, none", c.ClientAuth.Mode)
	}
	if c.ClientAuth.Mode == "none" && c.ClientAuth.AnonymousUser == "" {
		return bad("client_auth.anonymous_user", "is required when client_auth.mode is none")
	}
	if c.ClientAuth.Mode == "none" && !c.ClientAuth.Public && !IsLoopback(c.Listen) {
		return bad("client_auth.mode", "none on %s would admit anyone who reaches it; listen on a loopback address, or set client_auth.public: true (GATEHOUSE_CLIENT_AUTH_PUBLIC=true) if that is what you want", c.Listen)
	}
	if c.PprofListen != "" {
		if _, _, err := net.SplitHostPort(c.PprofListen); err != nil {
			return bad("pprof_listen", "%q is not host:port", c.PprofListen)
		}
		if !c.PprofPublic && !IsLoopback(c.PprofListen) {
			return bad("pprof_listen", "%s is not a loopback address and profiles expose memory and call arguments; use 127.0.0.1:port, or set pprof_public: true (GATEHOUSE_PPROF_PUBLIC=true) if that is what you want", c.PprofListen)
		}
	}
	for _, r := range c.ClientAuth.AnonymousRoles {
		if !roleName.MatchString(r) {
			return bad("client_auth.anonymous_roles", "%q is not a role name", r)
		}
	}
	if c.ShutdownGrace < 0 {
		return bad("shutdown_grace", "must not be negative")
	}
	if c.Upstream.CallTimeout <= 0 {
		return bad("upstream.call_timeout", "must be positive")
	}
	if c.Policies.ApprovalTimeout < 0 || c.Policies.ApprovalTimeout != 0 && c.Policies.ApprovalTimeout >= c.Upstream.CallTimeout {
		return bad("policies.approval_timeout", "%s must be positive and shorter than upstream.call_timeout (%s)", c.Policies.ApprovalTimeout, c.Upstream.CallTimeout)
	}
	if c.Upstream.SessionIdleTimeout <= 0 {
		return bad("upstream.session_idle_timeout", "must be positive")
	}
	if c.Upstream.MaxMessageBytes < 1024 {
		return bad("upstream.max_message_bytes", "must be at least 1024")
	}
	if c.HTTP.MaxBodyBytes < 1024 {
		return bad("http.max_body_bytes", "must be at least 1024")
	}
	if c.HTTP.MaxGuardUploadBytes < 1024 {
		return bad("http.max_guard_upload_bytes", "must be at least 1024")
	}
	if err := c.Plugins.validate(); err != nil {
		return err
	}
	if err := c.Limits.validate(); err != nil {
		return err
	}
	for key, v := range map[string]int64{"offload.threshold_bytes": int64(c.Offload.ThresholdBytes), "offload.preview_bytes": int64(c.Offload.PreviewBytes),
		"offload.ttl": int64(c.Offload.TTL), "offload.user_quota_bytes": c.Offload.UserQuotaBytes, "offload.total_quota_bytes": c.Offload.TotalQuotaBytes} {
		if v <= 0 {
			return bad(key, "must be positive")
		}
	}
	if c.Offload.PreviewBytes >= c.Offload.ThresholdBytes {
		return bad("offload.preview_bytes", "%d must be smaller than offload.threshold_bytes (%d)", c.Offload.PreviewBytes, c.Offload.ThresholdBytes)
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return bad("admin_token", "must be at least 16 characters")
	}
	for i, cmd := range c.STDIO.AllowedCommands {
		if cmd == "" || strings.ContainsAny(cmd, " \t\n") || strings.Contains(cmd, "/") && !strings.HasPrefix(cmd, "/") {
			return bad(fmt.Sprintf("stdio.allowed_commands[%d]", i), "%q must be an absolute path or a bare command name, without arguments", cmd)
		}
	}
	switch c.Audit.Commit {
	case "", "sync", "batched":
	default:
		return bad("audit.commit", "%q is not one of sync, batched", c.Audit.Commit)
	}
	names := map[string]bool{}
	for i := range c.Audit.Sinks {
		s := &c.Audit.Sinks[i]
		key := fmt.Sprintf("audit.sinks[%d]", i)
		if !sinkNamePattern.MatchString(s.Name) {
			return bad(key+".name", "%q must be 1-32 lowercase letters, digits or dashes", s.Name)
		}
		if names[s.Name] {
			return bad(key+".name", "%q is used twice", s.Name)
		}
		names[s.Name] = true
		switch s.Type {
		case "file":
			if s.Path == "" {
				return bad(key+".path", "is required for a file sink")
			}
		case "webhook":
			if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return bad(key+".url", "%q is not an http(s) URL", s.URL)
			}
		case "syslog":
			switch s.Network {
			case "", "udp", "tcp", "unix", "unixgram":
			default:
				return bad(key+".network", "%q is not one of udp, tcp, unix, unixgram", s.Network)
			}
		default:
			return bad(key+".type", "%q is not one of file, webhook, syslog", s.Type)
		}
		if s.Timeout < 0 || s.BatchSize < 0 || s.MaxSizeMB < 0 || s.MaxBackups < 0 || s.MaxAgeDays < 0 {
			return bad(key, "sizes, counts and timeouts must not be negative")
		}
	}
	return nil
}

// validate refuses negative counts and caps that are not positive.
func (l *LimitsConfig) validate() error {
	for _, f := range []struct {
		key      string
		v        int
		positive bool
	}{
		{"sessions_per_user", l.SessionsPerUser, false},
		{"sessions_per_connector", l.SessionsPerConnector, false},
		{"stdio_processes_per_user", l.STDIOProcessesPerUser, false},
		{"stdio_processes_per_connector", l.STDIOProcessesPerConnector, false},
		{"inflight_per_user", l.InflightPerUser, false},
		{"inflight_per_connector", l.InflightPerConnector, false},
		{"name_max_bytes", l.NameMaxBytes, true},
		{"uri_max_bytes", l.URIMaxBytes, true},
		{"tool_labels_per_connector", l.ToolLabelsPerConnector, true},
	} {
		switch {
		case f.positive && f.v <= 0:
			return fmt.Errorf("%w: limits.%s: must be positive", ErrInvalid, f.key)
		case f.v < 0:
			return fmt.Errorf("%w: limits.%s: must not be negative (0 switches the limit off)", ErrInvalid, f.key)
		}
	}
	return nil
}

var sinkNamePattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$`)

// IsLoopback reports whether the host of hostport is localhost or a
// loopback IP. An empty host (all interfaces) and any other name are not:
// a name may resolve anywhere.
func IsLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// PublicExposures lists the settings that expose the gateway beyond
// loopback on purpose (client_auth.public, pprof_public), for a warning
// at start; empty when none applies.
func (c *Config) PublicExposures() []string {
	var out []string
	if c.ClientAuth.Mode == "none" && !IsLoopback(c.Listen) {
		out = append(out, "client_auth.mode none on "+c.Listen+": anyone who reaches it acts as "+c.ClientAuth.AnonymousUser)
	}
	if c.PprofListen != "" && !IsLoopback(c.PprofListen) {
		out = append(out, "pprof on "+c.PprofListen+": profiles expose memory and call arguments")
	}
	return out
}

// MCPURL is the aggregate MCP endpoint clients connect to.
func (c *Config) MCPURL() string { return c.BaseURL() + "/mcp" }

// BaseURL is the gateway's URL as clients reach it, without a trailing
// slash: public_url when set, else the listen address.
func (c *Config) BaseURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	return "http://" + c.Listen
}
