package host

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	authv1 "github.com/gatehouse-mcp/gatehouse/plugins/proto/auth/v1"
	transportv1 "github.com/gatehouse-mcp/gatehouse/plugins/proto/transport/v1"
	"github.com/gatehouse-mcp/gatehouse/plugins/wire"
)

// State is where a plugin is in its life cycle.
type State string

// Plugin states, as the admin API reports them.
const (
	// StateStarting: the first start is under way.
	StateStarting State = "starting"
	// StateRunning: started, handshake done, health checks pass.
	StateRunning State = "running"
	// StateRestarting: it crashed, hung or failed to start; the host
	// starts it again after a backoff.
	StateRestarting State = "restarting"
	// StateRefused: its executable does not match the configured
	// checksum; it is not started until the config or the file is fixed.
	StateRefused State = "refused"
	// StateStopped: the gateway is shutting down.
	StateStopped State = "stopped"
	// StateUnconfigured: found in plugins.dir but not in plugins.list, so
	// never started (it has no trusted checksum).
	StateUnconfigured State = "unconfigured"
)

// Spec is one configured plugin.
type Spec struct {
	Name string
	// Kind is wire.KindTransport or wire.KindAuth.
	Kind string
	// Path is the executable's absolute path.
	Path string
	// SHA256 is its expected hex digest.
	SHA256 string
	// Transport is the transport name a transport plugin serves.
	Transport string
	// Settings go to the process as wire.ConfigEnv.
	Settings map[string]string
}

// Supervision tunes health checks, deadlines and restarts.
type Supervision struct {
	CallTimeout       time.Duration
	HealthInterval    time.Duration
	RestartBackoffMin time.Duration
	RestartBackoffMax time.Duration
	// StartTimeout bounds the handshake of one start.
	StartTimeout time.Duration
}

// Status is a plugin as the admin API lists it.
type Status struct {
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	Path      string    `json:"path"`
	Transport string    `json:"transport,omitempty"`
	State     State     `json:"state"`
	Restarts  int       `json:"restarts"`
	PID       int       `json:"pid,omitempty"`
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error,omitempty"`
	SHA256    string    `json:"sha256,omitempty"`
}

// Plugin is one supervised plugin process: started once and shared by
// every call, health-checked, restarted with backoff after a crash.
type Plugin struct {
	spec Spec
	sup  Supervision
	log  zerolog.Logger

	mu       sync.Mutex
	state    State
	since    time.Time
	lastErr  string
	restarts int
	client   *plugin.Client
	conn     *grpc.ClientConn
	raw      any
	pid      int

	kick      chan struct{}
	firstDone chan struct{}
	firstOnce sync.Once
}

func newPlugin(spec Spec, sup Supervision, log zerolog.Logger) *Plugin {
	return &Plugin{spec: spec, sup: sup, log: log.With().Str("plugin", spec.Name).Logger(),
		state: StateStarting, since: time.Now(), kick: make(chan struct{}, 1), firstDone: make(chan struct{})}
}

// Name is the plugin's configured name.
func (p *Plugin) Name() string { return p.spec.Name }

// Status reports the plugin's state.
func (p *Plugin) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Status{Name: p.spec.Name, Kind: p.spec.Kind, Path: p.spec.Path, Transport: p.spec.Transport,
		State: p.state, Restarts: p.restarts, PID: p.pid, Since: p.since, LastError: p.lastErr, SHA256: p.spec.SHA256}
}

func (p *Plugin) setState(s State, err error) {
	p.mu.Lock()
	p.state, p.since = s, time.Now()
	if err != nil {
		p.lastErr = err.Error()
	}
	p.mu.Unlock()
}

// run supervises the plugin until ctx ends.
func (p *Plugin) run(ctx context.Context) {
	backoff := p.sup.RestartBackoffMin
	for {
		started := time.Now()
		err := p.start(ctx)
		if err == nil {
			p.setState(StateRunning, nil)
			p.firstOnce.Do(func() { close(p.firstDone) })
			p.log.Info().Int("pid", p.pid).Msg("plugin running")
			err = p.watch(ctx)
		}
		p.stop()
		p.firstOnce.Do(func() { close(p.firstDone) })
		if ctx.Err() != nil {
			p.setState(StateStopped, nil)
			return
		}
		if errors.Is(err, ErrChecksum) {
			p.setState(StateRefused, err)
			p.log.Error().Err(err).Msg("plugin refused")
			return
		}
		if time.Since(started) > 10*p.sup.RestartBackoffMax {
			backoff = p.sup.RestartBackoffMin
		}
		p.mu.Lock()
		p.restarts++
		p.mu.Unlock()
		p.setState(StateRestarting, err)
		p.log.Error().Err(err).Dur("backoff", backoff).Msg("plugin failed; restarting after backoff")
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			p.setState(StateStopped, nil)
			return
		case <-t.C:
		}
		backoff = min(2*backoff, p.sup.RestartBackoffMax)
	}
}

// start verifies the executable, starts it and does the handshake.
func (p *Plugin) start(ctx context.Context) error {
	sum, err := verify(p.spec.Path, p.spec.SHA256)
	if err != nil {
		return err
	}
	settings, err := json.Marshal(p.spec.Settings)
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	cmd := exec.Command(p.spec.Path) // no shell: the path is executed as is
	// The gateway's environment (its admin token, its secret key) is not
	// the plugin's business: it gets a PATH and its settings only.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), wire.ConfigEnv + "=" + string(settings)}
	logw := p.log.With().Str("source", "plugin").Logger()
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  wire.Handshake(),
		VersionedPlugins: wire.ClientSet(),
		Cmd:              cmd,
		SkipHostEnv:      true,
		SecureConfig:     &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     p.sup.StartTimeout,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: p.spec.Name, Output: logw, Level: hclog.Info, JSONFormat: true}),
	})
	fail := func(err error) error {
		client.Kill()
		return err
	}
	proto, err := client.Client()
	if err != nil {
		return fail(fmt.Errorf("start and handshake: %w", err))
	}
	if v := client.NegotiatedVersion(); v != wire.ProtocolVersion {
		return fail(fmt.Errorf("plugin speaks protocol version %d, the gateway %d", v, wire.ProtocolVersion))
	}
	raw, err := proto.Dispense(p.spec.Kind)
	if err != nil {
		return fail(fmt.Errorf("the plugin does not serve kind %q: %w", p.spec.Kind, err))
	}
	gc, ok := proto.(*plugin.GRPCClient)
	if !ok {
		return fail(errors.New("the plugin did not negotiate gRPC"))
	}
	hctx, cancel := context.WithTimeout(ctx, p.sup.CallTimeout)
	defer cancel()
	if err := health(hctx, gc.Conn); err != nil {
		return fail(fmt.Errorf("first health check: %w", err))
	}
	if err := probe(hctx, raw); err != nil {
		return fail(fmt.Errorf("the plugin does not serve kind %q: %w", p.spec.Kind, err))
	}
	p.mu.Lock()
	p.client, p.conn, p.raw = client, gc.Conn, raw
	if rc := client.ReattachConfig(); rc != nil {
		p.pid = rc.Pid
	}
	p.mu.Unlock()
	return nil
}

// probe makes one harmless call of the kind's service: go-plugin's
// dispense does not ask the process, so a plugin of another kind shows
// only as an unimplemented service.
func probe(ctx context.Context, raw any) error {
	var err error
	switch c := raw.(type) {
	case authv1.AuthClient:
		_, err = c.Authenticate(ctx, &authv1.AuthenticateRequest{})
	case transportv1.TransportClient:
		var s transportv1.Transport_SessionClient
		if s, err = c.Session(ctx); err == nil {
			_ = s.CloseSend()
			_, err = s.Recv()
		}
	}
	if status.Code(err) == codes.Unimplemented {
		return err
	}
	return nil
}

func health(ctx context.Context, conn *grpc.ClientConn) error {
	resp, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: plugin.GRPCServiceName})
	if err != nil {
		return err
	}
	if resp.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
		return fmt.Errorf("health status %s", resp.GetStatus())
	}
	return nil
}

// watch returns when the plugin exits or fails a health check.
func (p *Plugin) watch(ctx context.Context) error {
	t := time.NewTicker(p.sup.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-p.kick:
		}
		p.mu.Lock()
		client, conn, state, lastErr := p.client, p.conn, p.state, p.lastErr
		p.mu.Unlock()
		if state != StateRunning {
			return errors.New(lastErr)
		}
		if client.Exited() {
			return errors.New("the plugin process exited")
		}
		hctx, cancel := context.WithTimeout(ctx, min(p.sup.CallTimeout, p.sup.HealthInterval+time.Second))
		err := health(hctx, conn)
		cancel()
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("health check failed (hung or crashed): %w", err)
		}
	}
}

// stop kills the current process, if any.
func (p *Plugin) stop() {
	p.mu.Lock()
	client := p.client
	p.client, p.conn, p.raw, p.pid = nil, nil, nil, 0
	p.mu.Unlock()
	if client != nil {
		client.Kill()
	}
}

// fault marks a running plugin as failed (a call saw its connection go
// away) so that calls fail fast from now on, and has the supervisor
// restart it.
func (p *Plugin) fault(err error) {
	p.mu.Lock()
	if p.state == StateRunning {
		p.state, p.since, p.lastErr = StateRestarting, time.Now(), "crashed or went away mid-call: "+err.Error()
	}
	p.mu.Unlock()
	p.suspect()
}

// suspect asks the supervisor to check the plugin now (a call saw it fail).
func (p *Plugin) suspect() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// dispensed returns the running plugin's client, or the error its calls
// fail with while it does not run.
func (p *Plugin) dispensed() (any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.state {
	case StateRunning:
		if p.raw != nil {
			return p.raw, nil
		}
	case StateRefused:
		return nil, &Error{Plugin: p.spec.Name, Err: ErrNotRunning,
			Msg: "was refused at start and is not running: " + p.lastErr}
	}
	msg := fmt.Sprintf("is not running (%s", p.state)
	if p.lastErr != "" {
		msg += ": " + p.lastErr
	}
	msg += "); the gateway restarts it with backoff, retry shortly"
	return nil, &Error{Plugin: p.spec.Name, Err: ErrNotRunning, Msg: msg}
}

// callError turns a failed gRPC call into the plugin's error; what
// failed names the call ("authenticate", "open session").
func (p *Plugin) callError(what string, err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	st, _ := status.FromError(err)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || st.Code() == codes.DeadlineExceeded ||
		// The plugin's side of the deadline (gRPC passes it on) may
		// answer first, with its context's error as an Unknown status.
		st.Message() == context.DeadlineExceeded.Error():
		return &Error{Plugin: p.spec.Name, Err: fmt.Errorf("%w: %w", ErrTimeout, err),
			Msg: fmt.Sprintf("%s: no answer within %s (plugins.call_timeout); the plugin may be hung", what, p.sup.CallTimeout)}
	case st.Code() == codes.Unavailable:
		p.fault(err)
		return &Error{Plugin: p.spec.Name, Err: fmt.Errorf("%w: %w", ErrNotRunning, err),
			Msg: what + ": the plugin crashed or went away mid-call; the gateway restarts it, retry shortly"}
	default:
		return &Error{Plugin: p.spec.Name, Err: err, Msg: what + " failed: " + st.Message()}
	}
}
