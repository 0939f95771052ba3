package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/gatehouse-mcp/gatehouse/admin"
	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/auth/redirect"
	"github.com/gatehouse-mcp/gatehouse/core/catalog"
	"github.com/gatehouse-mcp/gatehouse/core/config"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/metrics"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/server"
	"github.com/gatehouse-mcp/gatehouse/core/store"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/netguard"
	"github.com/gatehouse-mcp/gatehouse/guards/host"
)

func newServeCommand() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway",
		Long: "Run the gateway. Settings come from --config (YAML) and the environment:\n" +
			"GATEHOUSE_LISTEN, GATEHOUSE_DATA_DIR, GATEHOUSE_ADMIN_TOKEN, GATEHOUSE_SECRET_KEY,\n" +
			"GATEHOUSE_CLIENT_AUTH (token|none), GATEHOUSE_CLIENT_AUTH_PUBLIC, GATEHOUSE_ANONYMOUS_USER, GATEHOUSE_ANONYMOUS_ROLES,\nGATEHOUSE_PPROF_PUBLIC, GATEHOUSE_LOG_FORMAT, GATEHOUSE_LOG_LEVEL, " +
			"GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath, os.LookupEnv)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, cfg, os.Stderr)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "YAML configuration file")
	return cmd
}

// isTerminal reports whether w is a terminal (go-isatty, which zerolog's
// own examples use).
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func newLogger(cfg config.LogConfig, out io.Writer) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.Level)
	if cfg.Format == "console" {
		// Colours only on a terminal: a log file (make run > log) or a
		// pipe gets plain text, not ANSI escape codes.
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: time.TimeOnly, NoColor: !isTerminal(out)}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

// serve runs the gateway until ctx ends.
func serve(ctx context.Context, cfg config.Config, stderr io.Writer) error {
	log := newLogger(cfg.Log, stderr)
	// The port first: a start that cannot listen fails before it prints a
	// new owner token nobody could then use.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (another gateway running? choose another address with GATEHOUSE_LISTEN or listen:)", cfg.Listen, err)
	}
	defer ln.Close()
	cfg.Listen = ln.Addr().String()
	key, err := secret.LoadOrCreateKey(cfg.DataDir, cfg.SecretKey)
	if err != nil {
		return err
	}
	box, err := secret.New(key)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DataDir, box, log)
	if err != nil {
		return err
	}
	defer st.Close()

	ownerHash, err := bootstrapOwner(ctx, st.Meta(), cfg.AdminToken, stderr)
	if err != nil {
		return err
	}
	authz, err := policy.NewAdmin(ctx, st.Policies())
	if err != nil {
		return err
	}
	if err := bootstrapOwnerUser(ctx, st.Users(), authz); err != nil {
		return err
	}
	mx := metrics.New(metrics.Options{ToolLabelsPerConnector: cfg.Limits.ToolLabelsPerConnector})
	observers, closeSinks, err := startAuditSinks(ctx, cfg.Audit.Sinks, st.Audit(), log)
	if err != nil {
		return err
	}
	defer closeSinks()
	conditions, err := policy.NewConditions()
	if err != nil {
		return err
	}
	toolPolicies, err := policy.NewEngine(ctx, conditions, st.ToolRules(), authz)
	if err != nil {
		return err
	}
	auditLog := audit.New(st.Audit(), log.With().Str("component", "audit").Logger(), append(observers, mx.Observe)...)
	defer auditLog.Close()
	if err := seedToolRules(ctx, toolPolicies, st.Meta(), cfg.Policies.Rules, log); err != nil {
		return err
	}
	approvals := access.NewApprovals(cfg.EffectiveApprovalTimeout())
	approvals.OnChange = func(ap access.Approval) { auditLog.Record(approvalEntry(ap)) }
	gate := access.New(toolPolicies, approvals, log.With().Str("component", "access").Logger())
	plugins, err := startPlugins(ctx, cfg.Plugins, cfg.Connectors, log)
	if err != nil {
		return err
	}
	defer plugins.Close()
	if err := seedConnectors(ctx, st.Connectors(), cfg.Connectors, log); err != nil {
		return err
	}
	list, err := st.Connectors().List(ctx)
	if err != nil {
		return fmt.Errorf("load connectors: %w", err)
	}
	registry := connector.NewRegistry(list)

	guardLog := log.With().Str("component", "guard").Logger()
	guardCache := guardCacheDir(cfg.Guards.CacheDir, cfg.DataDir)
	// Built-in guards may hold a whole tool list (1 000 tools with schemas
	// need more than 32 MiB): their host allows 128 MiB.
	trustedGuards, err := host.New(ctx, host.Config{CacheDir: guardCache, MemoryLimitPages: 2048, Log: guardLog})
	if err != nil {
		return err
	}
	defer trustedGuards.Close(context.Background())
	uploadedGuards, err := host.New(ctx, host.Config{CacheDir: guardCache, Interruptible: true, Log: guardLog})
	if err != nil {
		return err
	}
	defer uploadedGuards.Close(context.Background())
	guardEngine := toolguard.New(toolguard.DefaultSettings())
	guards, err := toolguard.NewManager(ctx, trustedGuards, uploadedGuards, guardEngine, st.Guards(), st.Meta(), guardLog)
	if err != nil {
		return err
	}

	toolPins := toolguard.NewPins(guardEngine, st.Guards())
	// The pre-call guards judge arguments against the tool's declared purpose.
	guardEngine.SetToolDescriptions(toolPins)
	toolPins.Peers = registry.List // new tools are judged with the other connectors' tools in view
	toolPins.OnHold = func(c *connector.Connector, t toolguard.ToolState) {
		auditLog.Record(&audit.Entry{Actor: "gatehouse", Action: "tool.held", Target: c.Slug, Connector: c.Slug, Tool: t.Name,
			Outcome: audit.OutcomeDenied, Sensitive: c.Advanced.Sensitive,
			Details: map[string]any{"status": t.Status, "verdict": t.Verdict, "score": t.Score, "reasons": t.Reasons, "hash": t.Hash}})
	}

	anonymous := ""
	if cfg.ClientAuth.Mode == "none" {
		anonymous = cfg.ClientAuth.AnonymousUser
	}
	authn := auth.New(ownerHash, anonymous, store.Directory{Store: st, RolesOf: authz.Roles}).WithAnonymousRoles(cfg.ClientAuth.AnonymousRoles)
	// The SSRF guard's run-time exceptions, as an owner last set them.
	privateExceptions := &netguard.Exceptions{}
	if _, err := admin.LoadSettings(ctx, st.Meta(), store.ErrNotFound, privateExceptions); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	upstreamAuth := newUpstreamAuth(cfg, st, registry, privateExceptions, log)
	identityFwd, identityKeys, identityJWKS, err := setupIdentity(ctx, cfg, st, store.Directory{Store: st, RolesOf: authz.Roles}, log)
	if err != nil {
		return err
	}
	offloader, err := newOffloader(ctx, cfg.Offload, st, log)
	if err != nil {
		return err
	}
	// The OAuth redirect-URI lists and pending approvals (the authorization
	// server decides every redirect URI through them).
	redirects, err := redirect.New(ctx, st.Meta(), store.ErrNotFound, auditLog)
	if err != nil {
		return fmt.Errorf("redirect rules: %w", err)
	}
	oauthServer, err := setupOAuth(ctx, cfg, st, store.Directory{Store: st, RolesOf: authz.Roles}, auditLog, privateExceptions, redirects, log)
	if err != nil {
		return err
	}
	oauthAdmin, oauthHandler := oauthWiring(oauthServer, authn)
	// Auth plugins after OAuth: a plugin that is down fails closed on the
	// credentials that reach it, and must not lock out OAuth's tokens.
	authn.WithProviders(plugins.Providers()...)
	px := proxy.New(registry, st.Credentials(), proxy.Options{
		CallTimeout:          cfg.Upstream.CallTimeout,
		IdleTimeout:          cfg.Upstream.SessionIdleTimeout,
		AllowPrivateNetworks: cfg.Upstream.AllowPrivateNetworks,
		PrivateExceptions:    privateExceptions,
		MaxMessageBytes:      cfg.Upstream.MaxMessageBytes,
		ObserveCall:          observeCall(auditLog, cfg.Audit.Commit),
		Guard:                guardEngine,
		Tools:                toolPins,
		Access:               gate,
		Refresh:              authn.Refresh,
		Limits:               proxyLimits(cfg.Limits),
		UpstreamAuth:         upstreamAuth,
		Identity:             identityFwd,
		Dialers:              plugins.Dialers(),
		Decorator:            plugins,
		ToolSearch:           proxy.ToolSearch{Aggregate: cfg.ToolSearch.Aggregate, Connectors: cfg.ToolSearch.Connectors},
		Offload:              offloader,
	}, log)

	builtin, err := catalog.Builtin()
	if err != nil {
		return err
	}
	api := admin.New(admin.Deps{
		Connectors: st.Connectors(), Credentials: st.Credentials(), Users: st.Users(), Tokens: st.Tokens(),
		Templates: st.Templates(), Requests: st.Requests(), Builtin: builtin,
		Authz: authz, Audit: auditLog, Registry: registry, Sessions: px, Guards: guards, Pins: toolPins, Scanner: px, Policies: toolPolicies, Approvals: approvals,
		Errs:                  admin.StoreErrors{NotFound: store.ErrNotFound, Conflict: store.ErrConflict, VersionMismatch: store.ErrVersionMismatch},
		Log:                   log.With().Str("component", "admin").Logger(),
		PublicURL:             cfg.BaseURL(),
		AllowPrivateUpstreams: cfg.Upstream.AllowPrivateNetworks,
		SettingsStore:         st.Meta(),
		Redirects:             redirects,
		PrivateExceptions:     privateExceptions,
		STDIO:                 admin.STDIOPolicy{ConfigOnly: cfg.STDIO.ConfigOnly, AllowedCommands: cfg.STDIO.AllowedCommands},
		AnonymousUser:         anonymous,
		AnonymousRoles:        cfg.ClientAuth.AnonymousRoles,
		UpstreamAuth:          upstreamAuth,
		IdentityKeys:          identityKeys,
		Plugins:               plugins,
		PluginTransports:      plugins.Transports(),
		PluginAuths:           plugins.Auths(),
		OAuth:                 oauthAdmin,
	})
	srv := server.New(px, authn, api, server.Options{
		Metrics: mx.Serve,
		MayReadMetrics: func(p auth.Principal) bool {
			ok, err := authz.Allowed(p.User, policy.ResAnalytics, policy.ActRead)
			return err == nil && ok
		},
		Version:             version,
		OpenAPI:             admin.OpenAPI(),
		MaxBodyBytes:        cfg.HTTP.MaxBodyBytes,
		MaxGuardUploadBytes: cfg.HTTP.MaxGuardUploadBytes,
		AllowedOrigins:      cfg.HTTP.AllowedOrigins,
		Connect:             upstreamAuth.Handler(ctx),
		IdentityJWKS:        identityJWKS,
		OAuth:               oauthHandler,
	}, log)

	for _, exposure := range cfg.PublicExposures() {
		log.Warn().Str("exposure", exposure).Msg("exposed beyond loopback by an explicit setting")
	}
	if cfg.PprofListen != "" {
		go servePprof(cfg.PprofListen, log)
	}
	log.Info().Str("listen", cfg.Listen).Str("mcp_url", cfg.MCPURL()).Int("connectors", len(list)).
		Str("client_auth", cfg.ClientAuth.Mode).Msg("gatehouse listening")

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		px.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Drain: no new work, calls in flight finish (up to the grace
	// period), then sessions and upstreams close and what remains ends.
	log.Info().Int("in_flight", px.InFlight()).Dur("grace", cfg.ShutdownGrace).Msg("shutting down: draining calls in flight")
	srv.Drain()
	if left := drain(px.InFlight, cfg.ShutdownGrace); left > 0 {
		log.Warn().Int("in_flight", left).Dur("grace", cfg.ShutdownGrace).Msg("calls still in flight after the grace period are ended")
	}
	px.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info().Msg("stopped")
	return nil
}

// drain waits until inFlight reports none, or grace has passed, and
// returns how many remain.
func drain(inFlight func() int, grace time.Duration) int {
	deadline := time.Now().Add(grace)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		n := inFlight()
		if n == 0 || !time.Now().Before(deadline) {
			return n
		}
		<-tick.C
	}
}

// observeCall records a call's audit entry as audit.commit says: sync
// (durable before the answer is relayed) or batched (queued; the answer
// does not wait).
func observeCall(l *audit.Log, commit string) func(context.Context, proxy.CallRecord) error {
	if commit == "batched" {
		return func(_ context.Context, r proxy.CallRecord) error {
			l.Record(callEntry(r))
			return nil
		}
	}
	return func(ctx context.Context, r proxy.CallRecord) error { return l.Commit(ctx, callEntry(r)) }
}

// proxyLimits are the configured limits for the proxy.
func proxyLimits(l config.LimitsConfig) proxy.Limits {
	return proxy.Limits{
		SessionsPerUser: l.SessionsPerUser, SessionsPerConnector: l.SessionsPerConnector,
		STDIOPerUser: l.STDIOProcessesPerUser, STDIOPerConnector: l.STDIOProcessesPerConnector,
		InflightPerUser: l.InflightPerUser, InflightPerConnector: l.InflightPerConnector,
		NameMaxBytes: l.NameMaxBytes, URIMaxBytes: l.URIMaxBytes,
	}
}

// ownerHashKey is where the bootstrap owner token's digest is kept.
const ownerHashKey = "owner_token_sha256"

// metaStore is the part of the store bootstrapping needs.
type metaStore interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, value []byte) error
}

// bootstrapOwner returns the owner token's digest: from GATEHOUSE_ADMIN_TOKEN
// when set (stored, replacing the previous one), else the stored one, else a
// new token generated and printed once.
func bootstrapOwner(ctx context.Context, meta metaStore, token string, out io.Writer) ([32]byte, error) {
	var digest [32]byte
	if token != "" {
		digest = auth.HashToken(token)
		return digest, meta.Put(ctx, ownerHashKey, digest[:])
	}
	stored, err := meta.Get(ctx, ownerHashKey)
	if err == nil && len(stored) == len(digest) {
		copy(digest[:], stored)
		return digest, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return digest, fmt.Errorf("read owner token: %w", err)
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	// One prefix for every Gatehouse token, so secret scanners and people
	// recognise the owner token as the API tokens (gth_).
	token = auth.TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	digest = auth.HashToken(token)
	if err := meta.Put(ctx, ownerHashKey, digest[:]); err != nil {
		return digest, fmt.Errorf("store owner token: %w", err)
	}
	// Printed once, outside the structured log: logs never carry secrets.
	fmt.Fprintf(out, "\n  Gatehouse owner token (shown once; set GATEHOUSE_ADMIN_TOKEN to choose your own):\n\n    %s\n\n", token)
	return digest, nil
}

// guardCacheDir picks where compiled guards are cached: the configured
// directory, else the user's cache directory, else the data dir.
func guardCacheDir(configured, dataDir string) string {
	if configured != "" {
		return configured
	}
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "gatehouse", "wazero")
	}
	return filepath.Join(dataDir, "guard-cache")
}

// auditQueues is the store's per-sink delivery queues.
type auditQueues interface {
	audit.Queue
	SetSinks(ctx context.Context, names []string) error
}

// startAuditSinks starts one dispatcher per configured sink and returns
// their wake-ups (audit log observers) and a func stopping them.
func startAuditSinks(ctx context.Context, sinks []config.SinkConfig, queues auditQueues, log zerolog.Logger) ([]func(*audit.Entry), func(), error) {
	names := make([]string, len(sinks))
	for i, s := range sinks {
		names[i] = s.Name
	}
	if err := queues.SetSinks(ctx, names); err != nil {
		return nil, nil, err
	}
	var observers []func(*audit.Entry)
	var dispatchers []*audit.Dispatcher
	for _, s := range sinks {
		var sink audit.Sink
		switch s.Type {
		case "file":
			sink = audit.NewFileSink(s.Path, s.MaxSizeMB, s.MaxBackups, s.MaxAgeDays, s.Compress)
		case "webhook":
			sink = audit.NewWebhookSink(s.URL, s.Headers, nil)
		case "syslog":
			sink = audit.NewSyslogSink(s.Network, s.Address, s.Tag)
		}
		if !s.IncludeSensitive {
			sink = audit.Redacting(sink)
		}
		d := audit.NewDispatcher(s.Name, sink, queues, s.BatchSize, s.Timeout, log.With().Str("component", "audit").Logger())
		dispatchers = append(dispatchers, d)
		observers = append(observers, d.Wake)
		log.Info().Str("sink", s.Name).Str("type", s.Type).Msg("audit sink started")
	}
	return observers, func() {
		for _, d := range dispatchers {
			_ = d.Close()
		}
	}, nil
}

// callEntry is the audit entry of a finished tool call.
func callEntry(r proxy.CallRecord) *audit.Entry {
	e := &audit.Entry{
		Actor: r.User, Action: audit.ActionToolCall, Connector: r.Connector, Tool: r.Tool,
		Decision: r.Decision, Outcome: r.Outcome, Error: r.Error, Sensitive: r.Sensitive,
		LatencyMS: float64(r.Latency.Microseconds()) / 1000,
	}
	if r.Outcome == "tool_error" {
		e.Outcome = audit.OutcomeError
		e.Details = map[string]any{"is_error": true}
		if r.Invalid {
			e.Details["invalid_arguments"] = true
		}
	}
	if r.Code != 0 {
		e.Details = map[string]any{"code": r.Code}
	}
	if r.Blocked {
		e.Outcome = audit.OutcomeDenied
	}
	if r.Unlisted {
		if e.Details == nil {
			e.Details = map[string]any{}
		}
		e.Details[metrics.DetailUnlisted] = true
	}
	details := map[string]string{"rule": r.Rule, "approval": r.Approval, "unvalidated": r.Unvalidated, "request_id": r.RequestID}
	if r.Approval != "" {
		// Who decided the approval the call passed (or failed), and how.
		by, via := "approved_by", "approved_via"
		if r.Decision != "approved" {
			by, via = "decided_by", "decided_via"
		}
		details[by], details[via] = r.ApprovedBy, r.ApprovedVia
	}
	for k, v := range details {
		if v == "" {
			continue
		}
		if e.Details == nil {
			e.Details = map[string]any{}
		}
		e.Details[k] = v
	}
	noteOffload(e, r)
	for _, v := range r.Guards {
		av := audit.Verdict{Guard: v.Guard, Verdict: v.Action, Score: v.Score, Reasons: v.Reasons}
		if v.Error != "" {
			av.Reasons = append(av.Reasons, "guard error: "+v.Error)
		}
		e.Guards = append(e.Guards, av)
	}
	return e
}

// approvalEntry is the audit entry of a new or decided approval.
func approvalEntry(ap access.Approval) *audit.Entry {
	e := &audit.Entry{Actor: ap.User, Action: "approval." + ap.Status, Target: ap.ID, Connector: ap.Connector, Tool: ap.Tool,
		Outcome: audit.OutcomeSuccess, Sensitive: ap.Sensitive,
		Details: map[string]any{"rule": ap.Rule, "expires_at": ap.ExpiresAt}}
	if ap.Status != access.ApprovalPending {
		e.Actor = ap.DecidedBy
		e.Details["requested_by"], e.Details["via"] = ap.User, ap.Via
		if ap.Note != "" {
			e.Details["note"] = ap.Note
		}
	}
	switch ap.Status {
	case access.ApprovalApproved:
		e.Decision = "allow"
	case access.ApprovalDenied, access.ApprovalExpired, access.ApprovalAbandoned:
		e.Decision, e.Outcome = "deny", audit.OutcomeDenied
	}
	return e
}

// toolRulesSeededKey marks a store whose default tool rules were written.
const toolRulesSeededKey = "tool_rules_seeded"

// seedToolRules writes the default tool rules on a fresh install (once:
// an admin may delete them) and the config file's rules whose ids are
// not taken.
func seedToolRules(ctx context.Context, e *policy.Engine, meta metaStore, seeds []config.SeedRule, log zerolog.Logger) error {
	if _, err := meta.Get(ctx, toolRulesSeededKey); errors.Is(err, store.ErrNotFound) {
		n, err := e.Seed(ctx, policy.DefaultRules())
		if err != nil {
			return err
		}
		if err := meta.Put(ctx, toolRulesSeededKey, []byte("1")); err != nil {
			return fmt.Errorf("mark tool rules seeded: %w", err)
		}
		log.Info().Int("rules", n).Msg("wrote the default tool policy (owners and admins use every connector)")
	} else if err != nil {
		return fmt.Errorf("read %s: %w", toolRulesSeededKey, err)
	}
	rules := make([]policy.Rule, len(seeds))
	for i, r := range seeds {
		rules[i] = seedRule(r)
	}
	n, err := e.Seed(ctx, rules)
	if err != nil {
		return fmt.Errorf("config policies.rules: %w", err)
	}
	if n > 0 {
		log.Info().Int("rules", n).Msg("created tool rules from config")
	}
	return nil
}

// seedRule is the tool rule of a config file's seed rule.
func seedRule(r config.SeedRule) policy.Rule {
	return policy.Rule{ID: r.ID, Subject: r.Subject, Connector: r.Connector, Kind: r.Kind, Name: r.Name,
		Actions: r.Actions, Effect: r.Effect, Condition: r.Condition, Description: r.Description, Approver: r.Approver}
}

// userRepo is the part of the store the owner bootstrap needs.
type userRepo interface {
	Create(ctx context.Context, u *auth.User) error
}

// bootstrapOwnerUser makes sure the user the owner token acts as exists
// and holds the owner role, so that the owner shows in user listings and
// audit entries name a real user.
func bootstrapOwnerUser(ctx context.Context, users userRepo, authz *policy.Admin) error {
	err := users.Create(ctx, &auth.User{ID: auth.OwnerUser, Name: "Bootstrap owner"})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("bootstrap owner user: %w", err)
	}
	if len(authz.DirectRoles(auth.OwnerUser)) == 0 {
		return authz.SetRoles(auth.OwnerUser, []string{auth.RoleOwner})
	}
	return nil
}

// connectorCreator is the part of the store seeding needs.
type connectorCreator interface {
	Create(ctx context.Context, c *connector.Connector) error
}

// seedConnectors creates the config file's connectors that do not exist yet.
func seedConnectors(ctx context.Context, repo connectorCreator, seeds []config.SeedConnector, log zerolog.Logger) error {
	for i, s := range seeds {
		c := connector.Connector{
			Name: s.Name, Slug: s.Slug, Description: s.Description, Transport: connector.Transport(s.Transport),
			URL: s.URL, Command: s.Command, Args: s.Args, Env: s.Env, Headers: s.Headers,
			Status: connector.Status(s.Status), Owner: "system",
		}
		c.Normalize()
		if err := c.Validate(); err != nil {
			return fmt.Errorf("config connectors[%d]: %w", i, err)
		}
		err := repo.Create(ctx, &c)
		switch {
		case err == nil:
			log.Info().Str("connector", c.Slug).Msg("created connector from config")
		case errors.Is(err, store.ErrConflict):
		default:
			return fmt.Errorf("config connectors[%d]: %w", i, err)
		}
	}
	return nil
}

// servePprof serves net/http/pprof on its own listener, for profiling a
// running gateway; it is off unless pprof_listen is set.
func servePprof(addr string, log zerolog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	log.Warn().Str("listen", addr).Msg("profiling endpoints enabled")
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error().Err(err).Msg("profiling listener stopped")
	}
}
