package auth

import (
	"context"
	"errors"
	"fmt"
)

// ErrNotMine is what a Provider returns for a credential that is not of
// its kind (another provider's token format, another scheme): the next
// provider is tried. Any other error is final.
var ErrNotMine = errors.New("credential not recognised by this provider")

// Provider authenticates one kind of client credential beside the API
// tokens: OAuth access tokens (core/auth/oauth), auth plugins. It gets
// the raw Authorization header value (scheme included) and returns the
// caller, ErrNotMine for a credential it does not handle, or the reason
// a credential of its kind is refused. A Provider that sets no Roles
// gets the roles the directory binds to the user; a user the directory
// has disabled is refused whichever provider vouches for them.
type Provider interface {
	// Name names the provider in errors and the audit log ("oauth",
	// "plugin:ldap").
	Name() string
	AuthenticateHeader(ctx context.Context, header []byte) (Principal, error)
}

// WithProviders adds providers tried, in order, for a credential that is
// neither the bootstrap owner token nor an API token.
func (a *Authenticator) WithProviders(ps ...Provider) *Authenticator {
	a.providers = append(a.providers, ps...)
	return a
}

// fromProviders asks the providers in order; the first one that claims
// the credential decides.
func (a *Authenticator) fromProviders(ctx context.Context, header []byte) (Principal, error) {
	for _, p := range a.providers {
		got, err := p.AuthenticateHeader(ctx, header)
		if errors.Is(err, ErrNotMine) {
			continue
		}
		if err != nil {
			return Principal{}, err
		}
		if got.User == "" {
			return Principal{}, ErrInvalidToken
		}
		if a.dir != nil {
			// A user the directory knows and has disabled is refused
			// whoever vouches for them.
			u, err := a.dir.User(ctx, got.User)
			switch {
			case err == nil && u.Disabled:
				return Principal{}, fmt.Errorf("%w: %s", ErrUserDisabled, u.ID)
			case err != nil && !a.dir.IsNotFound(err):
				return Principal{}, fmt.Errorf("look up user: %w", err)
			}
		}
		got.System, got.bootstrap = false, false
		if got.Provider == "" {
			got.Provider = p.Name()
		}
		if len(got.Roles) == 0 && a.dir != nil {
			got.Roles = a.dir.Roles(got.User)
		}
		return got, nil
	}
	return Principal{}, ErrInvalidToken
}

// challenger is a Provider that says how to authenticate on path: the
// WWW-Authenticate value of a 401 (an OAuth provider names its RFC 9728
// resource metadata).
type challenger interface {
	Challenge(path string) string
}

// Challenge is the first provider's challenge for path, or a plain
// Bearer challenge when no provider has one.
func (a *Authenticator) Challenge(path string) string {
	for _, p := range a.providers {
		if c, ok := p.(challenger); ok {
			if v := c.Challenge(path); v != "" {
				return v
			}
		}
	}
	return `Bearer realm="gatehouse"`
}
