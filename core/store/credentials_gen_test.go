package store

import (
	"context"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

func TestCredentialGenerationMovesOnEveryUserAndTokenWrite(t *testing.T) {
	s, err := OpenInMemory(testBox(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	tok := &auth.Token{User: "ann", Digest: "ab12"}
	for _, step := range []struct {
		name  string
		write func() error
	}{
		{"user created", func() error { return s.Users().Create(ctx, &auth.User{ID: "ann"}) }},
		{"token created", func() error { return s.Tokens().Create(ctx, tok) }},
		{"token revoked", func() error { _, err := s.Tokens().Revoke(ctx, tok.ID); return err }},
		{"user disabled", func() error {
			_, err := s.Users().Update(ctx, "ann", 0, func(u *auth.User) error { u.Disabled = true; return nil })
			return err
		}},
		{"user deleted", func() error { return s.Users().Delete(ctx, "ann") }},
	} {
		before := s.CredentialGeneration()
		if err := step.write(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if s.CredentialGeneration() == before {
			t.Fatalf("%s: the credential generation did not move", step.name)
		}
	}
	before := s.CredentialGeneration()
	if _, err := s.Tokens().ByDigest(ctx, "ab12"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Users().List(ctx); err != nil {
		t.Fatal(err)
	}
	if s.CredentialGeneration() != before {
		t.Fatal("a read moved the credential generation")
	}
}
