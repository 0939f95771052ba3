// Package stdio runs an upstream MCP server as a child process and speaks
// newline-delimited JSON-RPC over its stdin and stdout. The process is
// started directly (never through a shell) with only the environment the
// connector grants, its stderr goes to the log, and it is stopped in
// stages: stdin closed, SIGTERM, then SIGKILL to its whole process group.
package stdio

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// Config describes the process to run.
type Config struct {
	Command string
	Args    []string
	// Env is added to the small base environment (PATH, HOME, LANG, TMPDIR)
	// the child inherits; nothing else of the gateway's environment leaks,
	// so the gateway's own secrets never reach an upstream.
	Env map[string]string
	Dir string
	// MaxMessageBytes bounds one line of output (default 16 MiB).
	MaxMessageBytes int
	// Redact lists secret values (env and header values) masked in every
	// stderr line before it is logged.
	Redact []string
	// StopGrace is how long each stop stage waits (default 2s).
	StopGrace time.Duration
	Log       zerolog.Logger
}

// inheritedEnv lists the variables a child gets from the gateway.
var inheritedEnv = []string{"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "TZ"}

// Conn is one running upstream process.
type Conn struct {
	cfg    Config
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	router *upstream.Router

	writeMu sync.Mutex
	exited  chan struct{}
	stderr  *tail

	closeOnce sync.Once
	// closing is set once Close began: the exit that follows is asked for.
	closing atomic.Bool
	exitErr error
}

// Start launches the process. ctx bounds only the start itself.
func Start(ctx context.Context, cfg Config) (*Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 16 << 20
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 2 * time.Second
	}
	env := buildEnv(cfg.Env)
	path, err := lookPath(cfg.Command, env)
	if err != nil {
		return nil, fmt.Errorf("%w: start %q: %w", upstream.ErrUnavailable, cfg.Command, err)
	}
	cmd := exec.Command(path, cfg.Args...)
	cmd.Env = env
	cmd.Dir = cfg.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("stdin pipe: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("stdout pipe: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("stderr pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start %q: %w", upstream.ErrUnavailable, cfg.Command, err)
	}
	c := &Conn{
		cfg:    cfg,
		cmd:    cmd,
		stdin:  stdin,
		router: upstream.NewRouter(),
		exited: make(chan struct{}),
		stderr: newTail(20),
	}
	c.cfg.Log = cfg.Log.With().Int("pid", cmd.Process.Pid).Logger()
	stderrDone := make(chan struct{})
	go func() {
		c.logStderr(stderr)
		close(stderrDone)
	}()
	go c.readLoop(stdout, stderrDone)
	return c, nil
}

func buildEnv(extra map[string]string) []string {
	env := make([]string, 0, len(inheritedEnv)+len(extra))
	for _, k := range inheritedEnv {
		if _, override := extra[k]; override {
			continue
		}
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// lookPath resolves command against the child's PATH, not the gateway's.
func lookPath(command string, env []string) (string, error) {
	if strings.Contains(command, "/") {
		return command, nil
	}
	for _, kv := range env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range strings.Split(p, ":") {
				if dir == "" {
					continue
				}
				cand := dir + "/" + command
				if fi, err := os.Stat(cand); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
					return cand, nil
				}
			}
		}
	}
	return "", exec.ErrNotFound
}

func (c *Conn) readLoop(stdout io.Reader, stderrDone <-chan struct{}) {
	r := bufio.NewReaderSize(stdout, 64<<10)
	var readErr error
	for {
		line, err := readLine(r, c.cfg.MaxMessageBytes)
		if len(bytes.TrimSpace(line)) > 0 {
			msg, perr := mcp.Parse(line)
			if perr != nil {
				c.cfg.Log.Warn().Str("error", perr.Message).Int("bytes", len(line)).Msg("upstream wrote a line that is not a JSON-RPC message; dropped")
			} else {
				c.router.Dispatch(msg)
			}
		}
		if err != nil {
			readErr = err
			break
		}
	}
	if !errors.Is(readErr, io.EOF) {
		// The stream cannot be resynchronised (oversized or unreadable
		// output): end the process, or a live child would hang its calls.
		c.router.Fail(fmt.Errorf("%w: %w", upstream.ErrClosed, readErr))
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-stderrDone
	waitErr := c.cmd.Wait()
	c.exitErr = exitError(waitErr, readErr)
	if c.closing.Load() {
		// Asked to stop (a session closed, the gateway stopping): not news.
		c.cfg.Log.Debug().Err(c.exitErr).Msg("upstream process stopped")
	} else if tail := c.stderr.String(); tail != "" {
		c.cfg.Log.Warn().Str("stderr_tail", tail).Err(c.exitErr).Msg("upstream process ended")
	} else {
		c.cfg.Log.Info().Err(c.exitErr).Msg("upstream process ended")
	}
	c.router.Fail(c.exitErr)
	close(c.exited)
}

// exitError says why the process ended. The stderr tail stays in the log:
// it may hold details a client should not see.
func exitError(waitErr, readErr error) error {
	var reason string
	switch {
	case waitErr != nil:
		reason = waitErr.Error()
	case readErr != nil && !errors.Is(readErr, io.EOF):
		reason = readErr.Error()
	default:
		reason = "exited"
	}
	return fmt.Errorf("%w: upstream process %s", upstream.ErrClosed, reason)
}

// errLineTooLong ends the connection: a stdio stream cannot be resynchronised
// safely after a partial message.
var errLineTooLong = errors.New("upstream message exceeds the size limit")

func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(chunk) > limit {
			return nil, errLineTooLong
		}
		if err == bufio.ErrBufferFull {
			buf = append(buf, chunk...)
			continue
		}
		if buf == nil {
			buf = make([]byte, len(chunk))
			copy(buf, chunk)
		} else {
			buf = append(buf, chunk...)
		}
		return buf, err
	}
}

func (c *Conn) logStderr(r io.Reader) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 4096), 64<<10)
	for s.Scan() {
		line := redact(s.Text(), c.cfg.Redact)
		if len(line) > 2000 {
			line = line[:2000] + "…"
		}
		c.stderr.add(line)
		c.cfg.Log.Info().Str("stderr", line).Msg("upstream stderr")
	}
}

// Call implements upstream.Conn.
func (c *Conn) Call(ctx context.Context, req *mcp.Message) (upstream.Stream, error) {
	s, err := c.router.Register(req)
	if err != nil {
		return nil, err
	}
	if err := c.write(ctx, req); err != nil {
		c.router.Forget(req)
		return nil, err
	}
	return s, nil
}

// Send implements upstream.Conn.
func (c *Conn) Send(ctx context.Context, msg *mcp.Message) error { return c.write(ctx, msg) }

// Listen implements upstream.Conn. A process has one unsolicited stream.
func (c *Conn) Listen(ctx context.Context) (upstream.Stream, error) {
	return upstream.SharedStream(c.router.Events()), nil
}

func (c *Conn) write(ctx context.Context, msg *mcp.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.exited:
		return c.exitErr
	default:
	}
	b := msg.Bytes()
	if bytes.IndexByte(b, '\n') >= 0 {
		var compact bytes.Buffer
		if err := json.Compact(&compact, b); err != nil {
			return fmt.Errorf("compact message: %w", err)
		}
		b = compact.Bytes()
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if _, err := c.stdin.Write(append(b[:len(b):len(b)], '\n')); err != nil {
		return fmt.Errorf("%w: write to upstream process: %w", upstream.ErrClosed, err)
	}
	return nil
}

// Exited is closed when the process has ended.
func (c *Conn) Exited() <-chan struct{} { return c.exited }

// Err reports why the process ended (nil while it runs).
func (c *Conn) Err() error {
	select {
	case <-c.exited:
		return c.exitErr
	default:
		return nil
	}
}

// Close stops the process: stdin is closed, then SIGTERM, then SIGKILL to
// the process group, each stage waiting StopGrace.
func (c *Conn) Close() error {
	c.closing.Store(true)
	c.closeOnce.Do(func() {
		c.writeMu.Lock()
		_ = c.stdin.Close()
		c.writeMu.Unlock()
		pgid := c.cmd.Process.Pid
		for _, sig := range []syscall.Signal{0, syscall.SIGTERM, syscall.SIGKILL} {
			if sig != 0 {
				_ = syscall.Kill(-pgid, sig)
			}
			select {
			case <-c.exited:
				return
			case <-time.After(c.cfg.StopGrace):
			}
		}
		<-c.exited
	})
	return nil
}

// tail keeps the last n lines of a process's stderr for error messages.
type tail struct {
	mu    sync.Mutex
	lines []string
	n     int
}

func newTail(n int) *tail { return &tail{n: n} }

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == t.n {
		t.lines = t.lines[1:]
	}
	t.lines = append(t.lines, line)
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.Join(t.lines, " | ")
	if len(s) > 500 {
		s = "…" + s[len(s)-500:]
	}
	return s
}

func redact(line string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			line = strings.ReplaceAll(line, v, "[REDACTED]")
		}
	}
	return line
}
