// Command testplugin is a plugin that misbehaves on request, for the host's
// tests. Its "mode" setting picks the behaviour: echo, crash, crash-once
// (crashes unless the file named by "marker" exists, which it creates),
// hang, garbage, wrong-first-frame, version2, not-a-plugin, auth; and
// stdio-echo, not a plugin but the same echo as an MCP server on stdin and
// stdout (the built-in transport's side of the benchmark).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	goplugin "github.com/hashicorp/go-plugin"

	transportv1 "github.com/gatehouse-mcp/gatehouse/plugins/proto/transport/v1"
	"github.com/gatehouse-mcp/gatehouse/plugins/wire"
	"github.com/gatehouse-mcp/gatehouse/sdk/plugin"
)

func main() {
	settings, err := plugin.Settings()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mode := settings["mode"]
	switch mode {
	case "stdio-echo":
		stdioEcho()
	case "not-a-plugin":
		fmt.Println("hello, I am not a plugin")
		os.Exit(0)
	case "version2":
		hs := wire.Handshake()
		hs.ProtocolVersion = 2
		goplugin.Serve(&goplugin.ServeConfig{HandshakeConfig: hs, GRPCServer: goplugin.DefaultGRPCServer,
			VersionedPlugins: map[int]goplugin.PluginSet{2: {wire.KindTransport: &wire.Transport{Impl: plugin.TransportServer(transport{mode: "echo"})}}}})
	case "wrong-first-frame":
		goplugin.Serve(&goplugin.ServeConfig{HandshakeConfig: wire.Handshake(), GRPCServer: goplugin.DefaultGRPCServer,
			VersionedPlugins: map[int]goplugin.PluginSet{1: {wire.KindTransport: &wire.Transport{Impl: wrongFirst{}}}}})
	case "auth":
		plugin.ServeAuth(authn{})
	default:
		if mode == "crash-once" {
			if _, err := os.Stat(settings["marker"]); err == nil {
				mode = "echo"
			} else {
				_ = os.WriteFile(settings["marker"], nil, 0o600)
				mode = "crash"
			}
		}
		plugin.ServeTransport(transport{mode: mode})
	}
}

type transport struct{ mode string }

func (t transport) Open(ctx context.Context, req plugin.OpenRequest) (plugin.Session, error) {
	if req.URL == "test://refuse" {
		return nil, fmt.Errorf("no upstream at %s", req.URL)
	}
	return &session{mode: t.mode, out: make(chan []byte, 16), done: make(chan struct{})}, nil
}

type session struct {
	mode string
	out  chan []byte
	done chan struct{}
}

func (s *session) Send(ctx context.Context, msg []byte) error {
	var m struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(msg, &m); err != nil {
		return err
	}
	if m.ID == nil {
		return nil // a notification
	}
	switch s.mode {
	case "crash":
		os.Exit(3)
	case "hang":
		return nil
	case "garbage":
		s.out <- []byte("this is not JSON-RPC")
		return nil
	}
	s.out <- echo(m.ID, m.Params)
	return nil
}

func (s *session) Recv(ctx context.Context) ([]byte, error) {
	select {
	case m := <-s.out:
		return m, nil
	case <-s.done:
		return nil, io.EOF
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *session) Close() error {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	return nil
}

// wrongFirst answers a message where Opened belongs.
type wrongFirst struct {
	transportv1.UnimplementedTransportServer
}

func (wrongFirst) Session(stream transportv1.Transport_SessionServer) error {
	if _, err := stream.Recv(); err != nil {
		return err
	}
	return stream.Send(&transportv1.PluginFrame{Frame: &transportv1.PluginFrame_Message{Message: []byte(`{"jsonrpc":"2.0","id":1,"result":{}}`)}})
}

// authn accepts "Test ok-USER", refuses "Test bad", hangs on "Test hang",
// crashes on "Test crash" and passes on anything else.
type authn struct{}

func (authn) Authenticate(ctx context.Context, h []byte) (plugin.Principal, error) {
	v, ok := strings.CutPrefix(string(h), "Test ")
	switch {
	case !ok:
		return plugin.Principal{}, plugin.ErrNotMine
	case strings.HasPrefix(v, "ok-"):
		return plugin.Principal{User: strings.TrimPrefix(v, "ok-"), Roles: []string{"member"}}, nil
	case v == "hang":
		<-ctx.Done()
		return plugin.Principal{}, ctx.Err()
	case v == "crash":
		os.Exit(3)
	}
	return plugin.Principal{}, &plugin.Refused{Reason: "unknown test credential"}
}

// echo is the answer to request id: its params, under "echo".
func echo(id, params json.RawMessage) []byte {
	if params == nil {
		params = json.RawMessage("null")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%s,"result":{"echo":%s}}`, id, params)
	return b.Bytes()
}

// stdioEcho answers each request line on stdin with echo on stdout.
func stdioEcho() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Params json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal(in.Bytes(), &m); err != nil || m.ID == nil {
			continue
		}
		out.Write(echo(m.ID, m.Params))
		out.WriteByte('\n')
		out.Flush()
	}
	os.Exit(0)
}
