package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// hookBits are gh_hooks' bits, in the order of guard's hook names.
// tool_request (8) is ABI 1.2: a module without its export (every 1.0 and
// 1.1 module) is not run pre-call, and one whose gh_hooks leaves the bit
// clear (an SDK that exports every hook) is not either.
var hookBits = []struct {
	bit  int32
	name string
}{{1, guard.HookToolList}, {2, guard.HookToolCall}, {4, guard.HookToolIntent}, {8, guard.HookToolRequest}}

// allHookBits: without gh_hooks, every exported hook counts.
const allHookBits = 1 | 2 | 4 | 8

// Module is one loaded guard: compiled once, instantiated on demand up to
// the host's MaxInstances. It is safe for concurrent use.
type Module struct {
	host     *Host
	name     string
	compiled wazero.CompiledModule
	config   []byte
	hooks    map[string]bool
	hasInit  bool

	pool   chan *instance
	slots  chan struct{} // one token per live instance
	mu     sync.Mutex
	closed bool

	stats callStats
}

// CallStats are a module's cumulative call figures since it was loaded:
// how long calls waited for a free instance apart from how long its guest
// ran, so queueing and guest time are measured separately.
type CallStats struct {
	Calls       int64
	Busy        int64 // calls refused with ErrBusy
	AcquireWait time.Duration
	GuestTime   time.Duration
}

type callStats struct {
	calls, busy, acquireNS, guestNS atomic.Int64
}

// Stats returns the module's call figures.
func (m *Module) Stats() CallStats {
	return CallStats{Calls: m.stats.calls.Load(), Busy: m.stats.busy.Load(),
		AcquireWait: time.Duration(m.stats.acquireNS.Load()), GuestTime: time.Duration(m.stats.guestNS.Load())}
}

// instance is one instantiated module with its exports looked up once.
type instance struct {
	module    *Module
	mod       api.Module
	alloc     api.Function
	hooks     map[string]api.Function
	stack     []uint64
	calls     int
	logBudget budget
}

// Load compiles wasm (once: the compilation cache makes a restart cheap),
// checks it against ABI v1 and starts one instance, running gh_init with
// config. The error wraps ErrABI for a module that is not a v1 guard.
func (h *Host) Load(ctx context.Context, name string, wasm, config []byte) (*Module, error) {
	compiled, err := h.rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not a valid WebAssembly module: %v", ErrABI, name, err)
	}
	m := &Module{host: h, name: name, compiled: compiled, config: config,
		pool: make(chan *instance, h.cfg.MaxInstances), slots: make(chan struct{}, h.cfg.MaxInstances)}
	if err := m.checkABI(); err != nil {
		_ = compiled.Close(ctx)
		return nil, err
	}
	// A first instance proves the module starts and reports its hooks.
	inst, err := m.newInstance(ctx)
	if err != nil {
		_ = compiled.Close(ctx)
		return nil, err
	}
	m.slots <- struct{}{}
	m.hooks = map[string]bool{}
	for name := range inst.hooks {
		m.hooks[name] = true
	}
	if len(m.hooks) == 0 {
		inst.close(ctx)
		_ = compiled.Close(ctx)
		return nil, fmt.Errorf("%w: %s implements no hook (gh_tool_list, gh_tool_call, gh_tool_intent or gh_tool_request)", ErrABI, name)
	}
	m.pool <- inst
	h.mu.Lock()
	h.modules[m] = struct{}{}
	h.mu.Unlock()
	return m, nil
}

// allowedImports are the only functions a guard may import besides WASI
// preview1 (which the host provides as a sandbox).
var allowedImports = map[string]bool{"gatehouse.log": true, "env.abort": true}

func (m *Module) checkABI() error {
	for _, f := range m.compiled.ImportedFunctions() {
		mod, fn, _ := f.Import()
		if mod == "wasi_snapshot_preview1" || allowedImports[mod+"."+fn] {
			continue
		}
		return fmt.Errorf("%w: %s imports %s.%s, which the guard sandbox does not provide (allowed: gatehouse.log, env.abort, wasi_snapshot_preview1)", ErrABI, m.name, mod, fn)
	}
	if len(m.compiled.ImportedMemories()) > 0 {
		return fmt.Errorf("%w: %s imports a memory; a guard exports its own", ErrABI, m.name)
	}
	exports := m.compiled.ExportedFunctions()
	if _, ok := exports["gh_abi_v1"]; !ok {
		var others []string
		for name := range exports {
			if strings.HasPrefix(name, "gh_abi_v") {
				others = append(others, strings.TrimPrefix(name, "gh_abi_"))
			}
		}
		if len(others) > 0 {
			sort.Strings(others)
			return fmt.Errorf("%w: %s targets ABI %s; this gateway runs v1", ErrABI, m.name, strings.Join(others, ", "))
		}
		return fmt.Errorf("%w: %s does not export gh_abi_v1", ErrABI, m.name)
	}
	if _, ok := m.compiled.ExportedMemories()["memory"]; !ok {
		return fmt.Errorf("%w: %s does not export its memory as \"memory\"", ErrABI, m.name)
	}
	want := map[string]struct{ params, results []api.ValueType }{
		"gh_alloc":       {[]api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
		"gh_init":        {[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
		"gh_hooks":       {nil, []api.ValueType{api.ValueTypeI32}},
		"gh_tool_list":   {[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}},
		"gh_tool_call":   {[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}},
		"gh_tool_intent": {[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}},
		// ABI 1.2: the pre-call hook, same calling convention.
		"gh_tool_request": {[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}},
	}
	if _, ok := exports["gh_alloc"]; !ok {
		return fmt.Errorf("%w: %s does not export gh_alloc(size i32) -> i32", ErrABI, m.name)
	}
	for name, sig := range want {
		def, ok := exports[name]
		if !ok {
			continue
		}
		if !sameTypes(def.ParamTypes(), sig.params) || !sameTypes(def.ResultTypes(), sig.results) {
			return fmt.Errorf("%w: %s exports %s with the wrong signature (see guards/ABI.md)", ErrABI, m.name, name)
		}
	}
	_, m.hasInit = exports["gh_init"]
	return nil
}

func sameTypes(a, b []api.ValueType) bool {
	return bytes.Equal(a, b)
}

// capWriter forwards a guard's stdout/stderr to the log, capped.
type capWriter struct {
	m   *Module
	out *budget
}

func (w capWriter) Write(p []byte) (int, error) {
	if w.out.allow(time.Now()) {
		line := strings.TrimSpace(string(p[:min(len(p), logLineMax)]))
		if line != "" {
			w.m.host.cfg.Log.Debug().Str("guard", w.m.name).Str("source", "stdio").Msg(line)
		}
	}
	return len(p), nil
}

// newInstance starts one instance, bounded by the host's StartTimeout
// whatever ctx allows: the instance outlives the call that needed it, so
// only the start-up deadline (not the caller's cancellation) applies.
func (m *Module) newInstance(ctx context.Context) (*instance, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.host.cfg.StartTimeout)
	defer cancel()
	inst := &instance{module: m, stack: make([]uint64, 2)}
	out := capWriter{m: m, out: &inst.logBudget}
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize").
		WithStdout(out).WithStderr(out).WithStdin(eofReader{})
	mod, err := m.host.rt.InstantiateModule(context.WithValue(ctx, instanceKey{}, inst), m.compiled, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %s did not start (_initialize) within %s", ErrTimeout, m.name, m.host.cfg.StartTimeout)
		}
		return nil, fmt.Errorf("%w: %s failed to start: %v", ErrTrap, m.name, err)
	}
	inst.mod = mod
	inst.alloc = mod.ExportedFunction("gh_alloc")
	inst.hooks = map[string]api.Function{}
	bits := int32(allHookBits)
	if f := mod.ExportedFunction("gh_hooks"); f != nil {
		if err := f.CallWithStack(ctx, inst.stack); err != nil {
			inst.close(ctx)
			return nil, m.callError(ctx, "gh_hooks", err)
		}
		bits = int32(inst.stack[0])
	}
	for _, h := range hookBits {
		if f := mod.ExportedFunction("gh_" + h.name); f != nil && bits&h.bit != 0 {
			inst.hooks[h.name] = f
		}
	}
	if m.hasInit && len(m.config) > 0 {
		ptr, err := inst.write(ctx, m.config)
		if err != nil {
			inst.close(ctx)
			return nil, err
		}
		inst.stack[0], inst.stack[1] = uint64(ptr), uint64(len(m.config))
		if err := mod.ExportedFunction("gh_init").CallWithStack(ctx, inst.stack); err != nil {
			inst.close(ctx)
			return nil, m.callError(ctx, "gh_init", err)
		}
		if rc := int32(inst.stack[0]); rc != 0 {
			inst.close(ctx)
			return nil, fmt.Errorf("%w: %s refused its configuration (gh_init returned %d)", ErrInput, m.name, rc)
		}
	}
	return inst, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func (i *instance) close(ctx context.Context) { _ = i.mod.Close(ctx) }

// write hands data to the guest through gh_alloc and returns its address.
func (i *instance) write(ctx context.Context, data []byte) (uint32, error) {
	i.stack[0] = uint64(len(data))
	if err := i.alloc.CallWithStack(ctx, i.stack); err != nil {
		return 0, i.module.callError(ctx, "gh_alloc", err)
	}
	ptr := uint32(i.stack[0])
	if ptr == 0 && len(data) > 0 {
		return 0, fmt.Errorf("%w: %s's gh_alloc refused %d bytes", ErrInput, i.module.name, len(data))
	}
	if !i.mod.Memory().Write(ptr, data) {
		return 0, fmt.Errorf("%w: %s's gh_alloc returned [%d, %d), outside its %d-byte memory", ErrInput, i.module.name, ptr, uint64(ptr)+uint64(len(data)), i.mod.Memory().Size())
	}
	return ptr, nil
}

// callError classifies a failed guest call.
func (m *Module) callError(ctx context.Context, fn string, err error) error {
	var exit *sys.ExitError
	switch {
	case ctx.Err() != nil && (errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeDeadlineExceeded):
		return fmt.Errorf("%w: %s (%s) did not return before its deadline", ErrTimeout, m.name, fn)
	case errors.As(err, &exit):
		return fmt.Errorf("%w: %s exited with code %d in %s (a panic or a failed allocation)", ErrTrap, m.name, exit.ExitCode(), fn)
	default:
		// The first line names the trap; wazero's stack trace follows.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return fmt.Errorf("%w: %s in %s: %s", ErrTrap, m.name, fn, msg)
	}
}

// Hooks returns the hooks the guard implements, sorted.
func (m *Module) Hooks() []string {
	out := make([]string, 0, len(m.hooks))
	for h := range m.hooks {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// Implements reports whether the guard has hook.
func (m *Module) Implements(hook string) bool { return m.hooks[hook] }

// Name is the guard's name.
func (m *Module) Name() string { return m.name }

// acquire takes a free instance, or starts one while there is room.
// Beyond ctx, it waits at most wait (0: only ctx bounds it); a wait that
// runs out is ErrBusy, as is ctx ending while queued when busy is set.
func (m *Module) acquire(ctx context.Context, wait time.Duration, busy bool) (*instance, error) {
	select {
	case inst := <-m.pool:
		return inst, nil
	default:
	}
	var expired <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-expired:
		return nil, fmt.Errorf("%w: every instance of %s stayed busy for %s", ErrBusy, m.name, wait)
	case inst := <-m.pool:
		return inst, nil
	case m.slots <- struct{}{}:
		m.mu.Lock()
		closed := m.closed
		m.mu.Unlock()
		if closed {
			<-m.slots
			return nil, ErrClosed
		}
		inst, err := m.newInstance(ctx)
		if err != nil {
			<-m.slots
			return nil, err
		}
		return inst, nil
	case <-ctx.Done():
		if busy {
			return nil, fmt.Errorf("%w: %s had no free instance before the call was abandoned", ErrBusy, m.name)
		}
		return nil, fmt.Errorf("%w: %s had no free instance before the deadline", ErrTimeout, m.name)
	}
}

// release returns a healthy instance to the pool, or discards it.
func (m *Module) release(ctx context.Context, inst *instance, healthy bool) {
	inst.calls++
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	// An instance whose memory grew past three quarters of the cap is
	// replaced before it runs out (Go guests never shrink their heap).
	crowded := uint64(inst.mod.Memory().Size()) > uint64(m.host.cfg.MemoryLimitPages)*65536*3/4
	if healthy && !closed && !crowded && inst.calls < m.host.cfg.RecycleAfter {
		m.pool <- inst
		return
	}
	inst.close(context.WithoutCancel(ctx))
	<-m.slots
}

// Call runs hook on input (the JSON envelope), bounded by ctx's deadline,
// and returns the guard's verdict. A guard that does not implement hook
// allows. Errors wrap ErrTrap, ErrTimeout, ErrVerdict or ErrInput.
func (m *Module) Call(ctx context.Context, hook string, input []byte) (guard.Verdict, error) {
	if !m.hooks[hook] {
		return guard.Allow(), nil
	}
	inst, err := m.acquire(ctx, 0, false)
	if err != nil {
		return guard.Verdict{}, err
	}
	v, healthy, err := inst.call(ctx, hook, input)
	m.release(ctx, inst, healthy)
	return v, err
}

// CallWithin runs hook on input as the gateway's chains do: the wait for
// a free instance is bounded by the host's AcquireTimeout (and ctx) and
// fails with ErrBusy, the guard not run; the guest then gets budget for
// itself, from the moment it has an instance. So a backlog of calls
// never times a guard out, while a guard that loops still does (on an
// interruptible host it is stopped; on a trusted one its late verdict is
// kept, as in Call).
func (m *Module) CallWithin(ctx context.Context, hook string, input []byte, budget time.Duration) (guard.Verdict, error) {
	if !m.hooks[hook] {
		return guard.Allow(), nil
	}
	start := time.Now()
	inst, err := m.acquire(ctx, m.host.cfg.AcquireTimeout, true)
	acquired := time.Now()
	m.stats.acquireNS.Add(int64(acquired.Sub(start)))
	if err != nil {
		if errors.Is(err, ErrBusy) {
			m.stats.busy.Add(1)
		}
		return guard.Verdict{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, budget)
	v, healthy, err := inst.call(cctx, hook, input)
	cancel()
	m.stats.calls.Add(1)
	m.stats.guestNS.Add(int64(time.Since(acquired)))
	m.release(ctx, inst, healthy)
	return v, err
}

func (i *instance) call(ctx context.Context, hook string, input []byte) (guard.Verdict, bool, error) {
	ctx = context.WithValue(ctx, instanceKey{}, i)
	ptr, err := i.write(ctx, input)
	if err != nil {
		return guard.Verdict{}, false, err
	}
	i.stack[0], i.stack[1] = uint64(ptr), uint64(len(input))
	if err := i.hooks[hook].CallWithStack(ctx, i.stack); err != nil {
		return guard.Verdict{}, false, i.module.callError(ctx, "gh_"+hook, err)
	}
	if err := ctx.Err(); err != nil && i.module.host.cfg.Interruptible {
		// Finished, but late: the caller has stopped waiting. (A trusted
		// host cannot interrupt, so its guards' late verdicts still count.)
		return guard.Verdict{}, true, fmt.Errorf("%w: %s (gh_%s) returned after its deadline", ErrTimeout, i.module.name, hook)
	}
	packed := i.stack[0]
	if packed == 0 {
		return guard.Allow(), true, nil
	}
	vptr, vlen := uint32(packed>>32), uint32(packed)
	if int(vlen) > i.module.host.cfg.MaxVerdictBytes {
		return guard.Verdict{}, false, fmt.Errorf("%w: %s returned a %d-byte verdict (limit %d)", ErrVerdict, i.module.name, vlen, i.module.host.cfg.MaxVerdictBytes)
	}
	raw, ok := i.mod.Memory().Read(vptr, vlen)
	if !ok {
		return guard.Verdict{}, false, fmt.Errorf("%w: %s's verdict [%d, %d) lies outside its %d-byte memory", ErrVerdict, i.module.name, vptr, uint64(vptr)+uint64(vlen), i.mod.Memory().Size())
	}
	v, err := ParseVerdict(raw)
	if err != nil {
		return guard.Verdict{}, true, fmt.Errorf("%w: %s: %v", ErrVerdict, i.module.name, err)
	}
	return v, true, nil
}

// ParseVerdict reads and checks a v1 verdict document. Unknown fields are
// ignored; an unknown action, a score outside [0, 1] or a bad span is an
// error.
func ParseVerdict(raw []byte) (guard.Verdict, error) {
	var v guard.Verdict
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("not a JSON verdict: %v (starts %q)", err, raw[:min(len(raw), 40)])
	}
	if v.V != guard.ABIVersion {
		return v, fmt.Errorf("verdict version %d, want %d", v.V, guard.ABIVersion)
	}
	if guard.Rank(v.Action) < 0 {
		return v, fmt.Errorf("unknown action %q (allow, flag, redact, block)", v.Action)
	}
	if v.Score < 0 || v.Score > 1 || v.Score != v.Score {
		return v, fmt.Errorf("score %v outside [0, 1]", v.Score)
	}
	for _, r := range v.Redactions {
		if r.Span[0] < 0 || r.Span[1] < r.Span[0] || !strings.HasPrefix(r.Path, "/") {
			return v, fmt.Errorf("bad redaction %s %v", r.Path, r.Span)
		}
	}
	for _, r := range v.Reasons {
		if r.Span != nil && (r.Span[0] < 0 || r.Span[1] < r.Span[0]) {
			return v, fmt.Errorf("bad span %v in reason %q", *r.Span, r.Code)
		}
	}
	return v, nil
}

// Close unloads the module: pooled instances close now, busy ones when
// they return.
func (m *Module) Close(ctx context.Context) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	m.mu.Unlock()
	m.host.mu.Lock()
	delete(m.host.modules, m)
	m.host.mu.Unlock()
	for {
		select {
		case inst := <-m.pool:
			inst.close(ctx)
			<-m.slots
		default:
			_ = m.compiled.Close(ctx)
			return
		}
	}
}
