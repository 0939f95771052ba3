package plugin

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	authv1 "github.com/gatehouse-mcp/gatehouse/plugins/proto/auth/v1"
	"github.com/gatehouse-mcp/gatehouse/plugins/wire"
)

// ErrNotMine is what Authenticate returns for a credential of another
// kind: the gateway asks its next provider.
var ErrNotMine = errors.New("not this plugin's credential")

// Refused is what Authenticate returns for a credential of the plugin's
// kind that is not valid; Reason reaches the client.
type Refused struct{ Reason string }

func (r *Refused) Error() string { return r.Reason }

// Principal is who a credential belongs to. Roles, when set, replace the
// roles the gateway's directory binds to the user.
type Principal struct {
	User  string
	Roles []string
}

// Authenticator turns an Authorization header (scheme included) into a
// principal, ErrNotMine, or a *Refused.
type Authenticator interface {
	Authenticate(ctx context.Context, authorization []byte) (Principal, error)
}

// Decorator is an Authenticator that also adds upstream credentials to
// the headers of an upstream session.
type Decorator interface {
	Decorate(ctx context.Context, connector, user string, headers map[string]string) (map[string]string, error)
}

// ServeAuth serves a as an auth.v1 plugin; it returns when the gateway
// stops the plugin. Call it from main.
func ServeAuth(a Authenticator) { serve(wire.KindAuth, &wire.Auth{Impl: AuthServer(a)}) }

// AuthServer adapts a to the auth.v1 gRPC service.
func AuthServer(a Authenticator) authv1.AuthServer { return &authServer{a: a} }

type authServer struct {
	authv1.UnimplementedAuthServer
	a Authenticator
}

func (s *authServer) Authenticate(ctx context.Context, req *authv1.AuthenticateRequest) (*authv1.AuthenticateResponse, error) {
	p, err := s.a.Authenticate(ctx, req.GetAuthorization())
	var refused *Refused
	switch {
	case errors.Is(err, ErrNotMine):
		return &authv1.AuthenticateResponse{Outcome: authv1.Outcome_OUTCOME_NOT_MINE}, nil
	case errors.As(err, &refused):
		return &authv1.AuthenticateResponse{Outcome: authv1.Outcome_OUTCOME_REFUSED, Reason: refused.Reason}, nil
	case err != nil:
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &authv1.AuthenticateResponse{Outcome: authv1.Outcome_OUTCOME_ACCEPTED, User: p.User, Roles: p.Roles}, nil
}

func (s *authServer) Decorate(ctx context.Context, req *authv1.DecorateRequest) (*authv1.DecorateResponse, error) {
	d, ok := s.a.(Decorator)
	if !ok {
		return &authv1.DecorateResponse{Headers: req.GetHeaders()}, nil
	}
	h, err := d.Decorate(ctx, req.GetConnector(), req.GetUser(), req.GetHeaders())
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &authv1.DecorateResponse{Headers: h}, nil
}
