package oauth

import (
	"context"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

// BenchmarkValidateAccessToken is the per-request cost of an OAuth access
// token on an MCP endpoint: a token seen before (the signature was checked
// once) — hash, cache, expiry, audience, revocation and scope checks.
func BenchmarkValidateAccessToken(b *testing.B) {
	f := newFixture(b)
	tok, _, err := f.srv.issueAccess("ann", "c", f.issuer+"/mcp/github", ScopeMCP, "fam")
	if err != nil {
		b.Fatal(err)
	}
	ctx := auth.WithRequestPath(context.Background(), "/mcp/github")
	header := []byte("Bearer " + tok)
	if _, err := f.srv.AuthenticateHeader(ctx, header); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.srv.AuthenticateHeader(ctx, header); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAccessTokenCold is a token's first presentation: the
// ES256 signature check and claim decoding (go-jose).
func BenchmarkVerifyAccessTokenCold(b *testing.B) {
	f := newFixture(b)
	tok, _, err := f.srv.issueAccess("ann", "c", f.issuer+"/mcp/github", ScopeMCP, "fam")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.srv.tokens.verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
