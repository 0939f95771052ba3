package host

import (
	"context"
	"fmt"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	authv1 "github.com/gatehouse-mcp/gatehouse/plugins/proto/auth/v1"
)

// authProvider is an auth plugin seen as an auth.Provider: it gets the
// raw Authorization header and vouches for the caller, passes, or refuses.
type authProvider struct{ p *Plugin }

// Name implements auth.Provider.
func (a authProvider) Name() string { return "plugin:" + a.p.Name() }

func (a authProvider) client() (authv1.AuthClient, error) {
	raw, err := a.p.dispensed()
	if err != nil {
		return nil, err
	}
	c, ok := raw.(authv1.AuthClient)
	if !ok {
		return nil, &Error{Plugin: a.p.Name(), Err: ErrNotRunning, Msg: "is not an auth plugin"}
	}
	return c, nil
}

// AuthenticateHeader implements auth.Provider. A plugin that is down or
// hung refuses the request (fails closed), naming itself.
func (a authProvider) AuthenticateHeader(ctx context.Context, header []byte) (auth.Principal, error) {
	c, err := a.client()
	if err != nil {
		return auth.Principal{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.p.sup.CallTimeout)
	defer cancel()
	resp, err := c.Authenticate(ctx, &authv1.AuthenticateRequest{Authorization: header})
	if err != nil {
		return auth.Principal{}, a.p.callError("authenticate", err)
	}
	switch resp.GetOutcome() {
	case authv1.Outcome_OUTCOME_NOT_MINE:
		return auth.Principal{}, auth.ErrNotMine
	case authv1.Outcome_OUTCOME_REFUSED:
		reason := resp.GetReason()
		if reason == "" {
			reason = "refused"
		}
		return auth.Principal{}, fmt.Errorf("%w: %s (plugin %q)", auth.ErrInvalidToken, reason, a.p.Name())
	case authv1.Outcome_OUTCOME_ACCEPTED:
		if resp.GetUser() == "" {
			return auth.Principal{}, &Error{Plugin: a.p.Name(), Err: ErrGarbage, Msg: "authenticate: accepted a credential without naming the user"}
		}
		return auth.Principal{User: resp.GetUser(), Roles: resp.GetRoles(), Provider: a.Name()}, nil
	default:
		return auth.Principal{}, &Error{Plugin: a.p.Name(), Err: ErrGarbage,
			Msg: fmt.Sprintf("authenticate: unknown outcome %d", resp.GetOutcome())}
	}
}

// decorate asks the plugin for the headers of an upstream session.
func (a authProvider) decorate(ctx context.Context, connector, user string, headers map[string]string) (map[string]string, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.p.sup.CallTimeout)
	defer cancel()
	resp, err := c.Decorate(ctx, &authv1.DecorateRequest{Connector: connector, User: user, Headers: headers})
	if err != nil {
		return nil, a.p.callError("decorate", err)
	}
	if resp.GetHeaders() == nil {
		return headers, nil
	}
	return resp.GetHeaders(), nil
}
