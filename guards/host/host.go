// Package host runs ToolGuard modules with wazero under ABI v1
// (guards/ABI.md): it compiles each module once (with an on-disk
// compilation cache), keeps a bounded pool of instances per module, bounds
// every call by a deadline and a memory cap, and turns everything a
// hostile or broken module can do — trap, loop, exhaust memory, return
// garbage or point outside its memory — into a clear error, never into a
// crash or a hang of the gateway.
package host

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Errors a guard call or a module load wraps; callers branch with
// errors.Is and show the wrapped message.
var (
	// ErrABI: the module does not implement ABI v1 (missing or wrong
	// exports, a forbidden import, another ABI version).
	ErrABI = errors.New("guard does not implement ABI v1")
	// ErrTrap: the guard trapped, panicked or exited.
	ErrTrap = errors.New("guard trapped")
	// ErrTimeout: the guard did not return within its deadline.
	ErrTimeout = errors.New("guard timed out")
	// ErrVerdict: the guard returned something that is not a v1 verdict,
	// or pointed outside its memory.
	ErrVerdict = errors.New("guard returned an invalid verdict")
	// ErrInput: the input could not be handed to the guard (its gh_alloc
	// refused or returned a buffer outside its memory).
	ErrInput = errors.New("guard refused its input")
	// ErrClosed: the module was unloaded.
	ErrClosed = errors.New("guard unloaded")
	// ErrBusy: every instance of the guard stayed busy for the host's
	// AcquireTimeout (or the caller gave up waiting): the gateway's own
	// backlog, not the guard's fault. The guard did not run.
	ErrBusy = errors.New("guard busy")
)

// Config tunes a Host. Zero values take the defaults.
type Config struct {
	// MemoryLimitPages caps each instance's memory (64 KiB pages; default
	// 512 = 32 MiB). Growth past it fails inside the guard.
	MemoryLimitPages uint32
	// CacheDir keeps compiled machine code across restarts ("" = memory).
	CacheDir string
	// Interruptible lets a deadline stop a running guard
	// (WithCloseOnContextDone). Untrusted modules need it; it slows loop-
	// heavy guest code, so trusted built-ins may run without.
	Interruptible bool
	// MaxInstances bounds the instances of one module (default
	// 2×GOMAXPROCS); callers beyond it wait for one, bounded by ctx.
	MaxInstances int
	// AcquireTimeout bounds the wait for a free instance in CallWithin
	// (default 2s), apart from the guest's own deadline: queueing behind
	// other calls never counts against a guard's time.
	AcquireTimeout time.Duration
	// RecycleAfter replaces an instance after this many calls (default
	// 10 000), so a guest's leaks cannot accumulate.
	RecycleAfter int
	// MaxVerdictBytes bounds a verdict document (default 256 KiB).
	MaxVerdictBytes int
	// StartTimeout bounds starting one instance: instantiation with the
	// guest's _initialize, gh_hooks and gh_init (default 10s). With
	// Interruptible it stops a guest that loops while starting; a trusted
	// host's guests are only reported late.
	StartTimeout time.Duration
	Log          zerolog.Logger
}

func (c *Config) defaults() {
	if c.MemoryLimitPages == 0 {
		c.MemoryLimitPages = 512
	}
	if c.MaxInstances <= 0 {
		c.MaxInstances = 2 * runtime.GOMAXPROCS(0)
	}
	if c.RecycleAfter <= 0 {
		c.RecycleAfter = 10000
	}
	if c.MaxVerdictBytes <= 0 {
		c.MaxVerdictBytes = 256 << 10
	}
	if c.AcquireTimeout <= 0 {
		c.AcquireTimeout = 2 * time.Second
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 10 * time.Second
	}
}

// Host is one wazero runtime with the sandbox guards run in: WASI preview1
// with no files, no environment and no network, plus the gatehouse
// module's log function. It is safe for concurrent use.
type Host struct {
	cfg Config
	rt  wazero.Runtime

	mu      sync.Mutex
	modules map[*Module]struct{}
}

// New starts a host.
func New(ctx context.Context, cfg Config) (*Host, error) {
	cfg.defaults()
	rc := wazero.NewRuntimeConfigCompiler().
		WithMemoryLimitPages(cfg.MemoryLimitPages).
		WithCloseOnContextDone(cfg.Interruptible)
	if cfg.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("guard compilation cache %s: %w", cfg.CacheDir, err)
		}
		rc = rc.WithCompilationCache(cache)
	}
	h := &Host{cfg: cfg, rt: wazero.NewRuntimeWithConfig(ctx, rc), modules: map[*Module]struct{}{}}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, h.rt); err != nil {
		return nil, errors.Join(fmt.Errorf("guard sandbox: %w", err), h.rt.Close(ctx))
	}
	if err := h.instantiateHostModules(ctx); err != nil {
		return nil, errors.Join(err, h.rt.Close(ctx))
	}
	return h, nil
}

// Close unloads every module and stops the runtime.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	mods := make([]*Module, 0, len(h.modules))
	for m := range h.modules {
		mods = append(mods, m)
	}
	h.mu.Unlock()
	for _, m := range mods {
		m.Close(ctx)
	}
	return h.rt.Close(ctx)
}

// logPerSecond and logLineMax cap what a guard may log.
const (
	logPerSecond = 50
	logLineMax   = 1024
)

// instantiateHostModules provides the imports guards may use: gatehouse.log
// and env.abort (AssemblyScript's runtime error hook).
func (h *Host) instantiateHostModules(ctx context.Context) error {
	_, err := h.rt.NewHostModuleBuilder("gatehouse").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(h.guestLog),
		[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil).
		WithParameterNames("level", "ptr", "len").Export("log").
		Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("guard host module: %w", err)
	}
	_, err = h.rt.NewHostModuleBuilder("env").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
		// AssemblyScript calls abort(msg, file, line, col) on a runtime
		// error: end the call as a trap.
		panic(fmt.Sprintf("guard aborted at line %d column %d", uint32(stack[2]), uint32(stack[3])))
	}), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil).
		Export("abort").
		Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("guard host module env: %w", err)
	}
	return nil
}

// guestLog is gatehouse.log(level, ptr, len): rate- and size-capped.
func (h *Host) guestLog(ctx context.Context, mod api.Module, stack []uint64) {
	inst, _ := ctx.Value(instanceKey{}).(*instance)
	if inst == nil || !inst.logBudget.allow(time.Now()) {
		return
	}
	level, ptr, n := int32(stack[0]), uint32(stack[1]), uint32(stack[2])
	n = min(n, logLineMax)
	msg, ok := mod.Memory().Read(ptr, n)
	if !ok {
		return
	}
	ev := h.cfg.Log.Info()
	switch {
	case level <= 0:
		ev = h.cfg.Log.Debug()
	case level >= 3:
		ev = h.cfg.Log.Error()
	case level == 2:
		ev = h.cfg.Log.Warn()
	}
	ev.Str("guard", inst.module.name).Str("source", "guest").Msg(string(msg))
}

type instanceKey struct{}

// budget is a token bucket refilled each second.
type budget struct {
	mu     sync.Mutex
	second int64
	used   int
}

func (b *budget) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := now.Unix(); s != b.second {
		b.second, b.used = s, 0
	}
	if b.used >= logPerSecond {
		return false
	}
	b.used++
	return true
}
