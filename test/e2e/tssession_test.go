//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// replyWait bounds how long a command to session.mjs may take: generous,
// since a held call waits for a human (here, the test) to decide.
const replyWait = 90 * time.Second

// rpcError is a JSON-RPC error as the TypeScript SDK client saw it.
type rpcError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// tsReply answers one command of session.mjs.
type tsReply struct {
	ID     string          `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *rpcError       `json:"error"`
}

// tsEvent is something session.mjs saw outside a command's answer.
type tsEvent struct {
	Event     string          `json:"event"`
	SessionID *string         `json:"sessionId"`
	Params    json.RawMessage `json:"params"`
	Error     *rpcError       `json:"error"`
}

// tsSession is one open session of the official TypeScript SDK client
// (test/e2e/node/session.mjs), driven command by command, so a test can
// act on the gateway while the session stays open and calls are held.
type tsSession struct {
	name   string
	stdin  io.WriteCloser
	stderr *syncBuffer
	ready  tsEvent
	events chan tsEvent
	exited chan struct{}

	mu      sync.Mutex
	next    int
	waiting map[string]chan tsReply
}

// openTSSession connects to url with token (empty: none); elicitation is
// "none" (the capability is not declared), "approve" or "decline" (the
// answer to every elicitation/create).
func openTSSession(t *testing.T, name, url, token, elicitation string) *tsSession {
	t.Helper()
	s, ev := connectTS(t, name, url, token, elicitation)
	if ev.Event != "ready" {
		t.Fatalf("%s did not connect: %+v (error %+v)\nstderr: %s", name, ev, ev.Error, tail(s.stderr.String(), 2000))
	}
	s.ready = ev
	return s
}

// connectTS starts the client and returns its first event: "ready", or
// "fatal" with the error when the connection was refused.
func connectTS(t *testing.T, name, url, token, elicitation string) (*tsSession, tsEvent) {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	args := []string{filepath.Join(filepath.Dir(here), "node", "session.mjs"), "--url", url, "--elicitation", elicitation}
	if token != "" {
		args = append(args, "--token", token)
	}
	cmd := exec.Command(peers.node, args...)
	cmd.Env = append(cmd.Environ(), "GATEHOUSE_TOOLS="+peers.tools, "GATEHOUSE_NODE_MODULES="+peers.nodeModules)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s := &tsSession{name: name, stderr: &syncBuffer{}, events: make(chan tsEvent, 64), exited: make(chan struct{}), waiting: map[string]chan tsReply{}}
	cmd.Stderr = s.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go s.read(stdout)
	go func() { _ = cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		// EOF on stdin ends the session; the process exits on its own.
		_ = s.stdin.Close()
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
		if t.Failed() {
			t.Logf("--- %s stderr ---\n%s", name, tail(s.stderr.String(), 3000))
		}
	})
	select {
	case ev := <-s.events:
		return s, ev
	case <-s.exited:
		select {
		case ev := <-s.events: // its last line may be read just after the exit
			return s, ev
		case <-time.After(5 * time.Second):
		}
		t.Fatalf("%s exited before connecting\nstderr: %s", name, tail(s.stderr.String(), 2000))
	case <-time.After(replyWait):
		t.Fatalf("%s did not connect in %s\nstderr: %s", name, replyWait, tail(s.stderr.String(), 2000))
	}
	return s, tsEvent{}
}

func (s *tsSession) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		// A line is an event (it has "event") or a command's answer.
		var ev tsEvent
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Event != "" {
			s.events <- ev
			continue
		}
		var r tsReply
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		s.mu.Lock()
		ch := s.waiting[r.ID]
		delete(s.waiting, r.ID)
		s.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

// send starts a command and returns where its answer will arrive.
func (s *tsSession) send(t *testing.T, cmd map[string]any) <-chan tsReply {
	t.Helper()
	s.mu.Lock()
	s.next++
	id := fmt.Sprint(s.next)
	ch := make(chan tsReply, 1)
	s.waiting[id] = ch
	s.mu.Unlock()
	cmd["id"] = id
	b, _ := json.Marshal(cmd)
	if _, err := s.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("%s: send %s: %v", s.name, b, err)
	}
	return ch
}

// wait returns the answer to a command sent earlier.
func (s *tsSession) wait(t *testing.T, ch <-chan tsReply) tsReply {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-s.exited:
		t.Fatalf("%s exited while a command was pending\nstderr: %s", s.name, tail(s.stderr.String(), 2000))
	case <-time.After(replyWait):
		t.Fatalf("%s: no answer in %s", s.name, replyWait)
	}
	return tsReply{}
}

// list runs a list-tools, list-prompts or list-resources command and
// returns the names (URIs for resources).
func (s *tsSession) list(t *testing.T, what string) []string {
	t.Helper()
	r := s.wait(t, s.send(t, map[string]any{"op": "list-" + what}))
	if r.Error != nil {
		t.Fatalf("%s: %s/list failed: %+v", s.name, what, *r.Error)
	}
	var out map[string][]string
	if err := json.Unmarshal(r.Result, &out); err != nil {
		t.Fatalf("%s: %s/list result %s: %v", s.name, what, r.Result, err)
	}
	return out[what]
}

// callResult is the outcome of a tools/call: a result or a JSON-RPC error.
type callResult struct {
	Text    string
	IsError bool
	Error   *rpcError
}

func (c callResult) String() string {
	if c.Error != nil {
		return fmt.Sprintf("error %d %q (data %s)", c.Error.Code, c.Error.Message, c.Error.Data)
	}
	return fmt.Sprintf("result %q (isError %v)", c.Text, c.IsError)
}

// startCall sends a tools/call without waiting for its answer.
func (s *tsSession) startCall(t *testing.T, tool string, args any) <-chan tsReply {
	t.Helper()
	return s.send(t, map[string]any{"op": "call-tool", "tool": tool, "args": args})
}

// result decodes the answer to a call.
func (s *tsSession) result(t *testing.T, ch <-chan tsReply) callResult {
	t.Helper()
	r := s.wait(t, ch)
	if r.Error != nil {
		return callResult{Error: r.Error}
	}
	var out struct {
		Text    string `json:"text"`
		IsError bool   `json:"isError"`
	}
	if err := json.Unmarshal(r.Result, &out); err != nil {
		t.Fatalf("%s: call result %s: %v", s.name, r.Result, err)
	}
	return callResult{Text: out.Text, IsError: out.IsError}
}

// call runs a tools/call and waits for its outcome.
func (s *tsSession) call(t *testing.T, tool string, args any) callResult {
	t.Helper()
	return s.result(t, s.startCall(t, tool, args))
}
