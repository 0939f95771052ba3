package store

import (
	"context"
	"errors"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

// Directory is the auth.Directory over this store's tokens and users, with
// roles from the policy engine.
type Directory struct {
	Store *Store
	// RolesOf returns the roles bound to a user (core/policy.Admin.Roles).
	RolesOf func(user string) []string
}

var _ auth.Directory = Directory{}

// TokenByDigest implements auth.Directory.
func (d Directory) TokenByDigest(ctx context.Context, digest string) (*auth.Token, error) {
	return d.Store.tokens.ByDigest(ctx, digest)
}

// User implements auth.Directory.
func (d Directory) User(ctx context.Context, id string) (*auth.User, error) {
	return d.Store.users.Get(ctx, id)
}

// Roles implements auth.Directory.
func (d Directory) Roles(user string) []string {
	if d.RolesOf == nil {
		return nil
	}
	return d.RolesOf(user)
}

// Generation implements auth.Directory's optional generation: it changes
// after every write to users or tokens.
func (d Directory) Generation() uint64 { return d.Store.CredentialGeneration() }

// IsNotFound implements auth.Directory.
func (Directory) IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
