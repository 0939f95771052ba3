package plugin

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	transportv1 "github.com/gatehouse-mcp/gatehouse/plugins/proto/transport/v1"
	"github.com/gatehouse-mcp/gatehouse/plugins/wire"
)

// OpenRequest is what the gateway asks a transport for.
type OpenRequest struct {
	// Connector is the connector's slug; User whose session it is.
	Connector, User string
	// URL is the connector's upstream address.
	URL string
	// Headers are the connector's headers for this user. Secrets.
	Headers map[string]string
	// MaxMessageBytes bounds one message.
	MaxMessageBytes int64
}

// Session is one open upstream MCP session, carrying JSON-RPC messages
// (one JSON object each) both ways.
type Session interface {
	// Send delivers a message from the gateway to the upstream.
	Send(ctx context.Context, msg []byte) error
	// Recv returns the upstream's next message; io.EOF ends the session.
	Recv(ctx context.Context) ([]byte, error)
	// Close ends the session.
	Close() error
}

// Transport opens upstream sessions.
type Transport interface {
	Open(ctx context.Context, req OpenRequest) (Session, error)
}

// ServeTransport serves t as a transport.v1 plugin; it returns when the
// gateway stops the plugin. Call it from main.
func ServeTransport(t Transport) {
	serve(wire.KindTransport, &wire.Transport{Impl: TransportServer(t)})
}

// TransportServer adapts t to the transport.v1 gRPC service (for tests
// that serve it without a process).
func TransportServer(t Transport) transportv1.TransportServer { return &transportServer{t: t} }

type transportServer struct {
	transportv1.UnimplementedTransportServer
	t Transport
}

func (s *transportServer) Session(stream transportv1.Transport_SessionServer) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	open := first.GetOpen()
	if open == nil {
		return status.Error(codes.InvalidArgument, "the first frame must be Open")
	}
	sess, err := s.t.Open(ctx, OpenRequest{Connector: open.GetConnector(), User: open.GetUser(), URL: open.GetUrl(),
		Headers: open.GetHeaders(), MaxMessageBytes: open.GetMaxMessageBytes()})
	if err != nil {
		// Not Unavailable: the gateway reads that as the plugin gone.
		return status.Errorf(codes.FailedPrecondition, "open %s: %v", open.GetUrl(), err)
	}
	defer sess.Close()
	if err := stream.Send(&transportv1.PluginFrame{Frame: &transportv1.PluginFrame_Opened{Opened: &transportv1.Opened{}}}); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Gateway → upstream until the gateway closes its side.
	go func() {
		defer cancel()
		for {
			f, err := stream.Recv()
			if err != nil {
				return
			}
			msg := f.GetMessage()
			if msg == nil {
				return
			}
			if err := sess.Send(ctx, msg); err != nil {
				return
			}
		}
	}()
	// Upstream → gateway until the upstream ends.
	for {
		msg, err := sess.Recv(ctx)
		if errors.Is(err, io.EOF) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return status.Errorf(codes.Aborted, "upstream: %v", err)
		}
		if err := stream.Send(&transportv1.PluginFrame{Frame: &transportv1.PluginFrame_Message{Message: msg}}); err != nil {
			return err
		}
	}
}
