package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
)

func TestSecretsAtRest(t *testing.T) {
	ctx := context.Background()

	t.Run("no secret appears in plaintext in the database", func(t *testing.T) {
		dir := t.TempDir()
		s := openAt(t, dir, 1)
		c := httpConnector("github")
		c.Auth.Token = "sekret-123"
		c.Headers["Authorization"] = "Bearer header-sekret-456"
		mustCreate(t, s, c)
		o := httpConnector("linear")
		o.Auth = connector.Auth{Kind: connector.AuthOAuth2, OAuth2: &connector.OAuth2{ClientID: "gw", ClientSecret: "client-sekret-321"}}
		created := mustCreate(t, s, o)
		if err := s.UpstreamTokens().PutToken(ctx, created.ID, "alice", UpstreamToken{AccessToken: "at-sekret-654", RefreshToken: "rt-sekret-987"}); err != nil {
			t.Fatal(err)
		}
		if err := s.UpstreamTokens().PutClient(ctx, created.ID, UpstreamClient{ClientID: "dcr", ClientSecret: "dcr-sekret-111"}); err != nil {
			t.Fatal(err)
		}
		mustCreate(t, s, stdioConnector("local"))
		if err := s.Credentials().Set(ctx, "alice", "github", map[string]string{"API_KEY": "cred-sekret-789"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(badgerLogger{zerolog.Nop()}))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		values := rawValues(t, db, true)
		if len(values) < 5 {
			t.Fatalf("only %d raw values; the scan is not seeing the data", len(values))
		}
		for k, v := range values {
			for _, plain := range []string{"sekret-123", "header-sekret-456", "env-secret-of-local", "cred-sekret-789",
				"client-sekret-321", "at-sekret-654", "rt-sekret-987", "dcr-sekret-111"} {
				if strings.Contains(string(v), plain) || strings.Contains(k, plain) {
					t.Errorf("%q appears in plaintext under key %q", plain, k)
				}
			}
		}
	})

	t.Run("a connector survives a restart with its secrets readable", func(t *testing.T) {
		dir := t.TempDir()
		s := openAt(t, dir, 1)
		want := mustCreate(t, s, httpConnector("github"))
		local := mustCreate(t, s, stdioConnector("local"))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = openAt(t, dir, 1)
		got, err := s.Connectors().Get(ctx, "github")
		if err != nil {
			t.Fatal(err)
		}
		assertSameConnector(t, got, want)
		gotLocal, err := s.Connectors().Get(ctx, "local")
		if err != nil {
			t.Fatal(err)
		}
		assertSameConnector(t, gotLocal, local)
	})

	t.Run("a ciphertext moved to another connector fails to open", func(t *testing.T) {
		s := newStore(t)
		a := mustCreate(t, s, httpConnector("a"))
		b := mustCreate(t, s, httpConnector("b"))
		swapField(t, s, a.ID, b.ID, `"token":"`)
		_, err := s.Connectors().Get(ctx, "b")
		if !errors.Is(err, secret.ErrDecrypt) || !strings.Contains(err.Error(), `"b"`) ||
			!strings.Contains(err.Error(), "auth.token") {
			t.Fatalf("Get = %v, want ErrDecrypt naming connector b and auth.token", err)
		}
		if strings.Contains(err.Error(), "token-of-") {
			t.Fatalf("error leaks the secret: %v", err)
		}
	})
}

// swapField copies the stored value following marker from connector from's
// record into connector to's record, as an attacker with disk access might.
func swapField(t *testing.T, s *Store, from, to, marker string) {
	t.Helper()
	err := s.db.Update(func(txn *badger.Txn) error {
		src, err := getValue(txn, connIDKey(from))
		if err != nil {
			return err
		}
		dst, err := getValue(txn, connIDKey(to))
		if err != nil {
			return err
		}
		field := func(rec string) string {
			i := strings.Index(rec, marker) + len(marker)
			return rec[i : i+strings.IndexByte(rec[i:], '"')]
		}
		out := strings.Replace(string(dst), field(string(dst)), field(string(src)), 1)
		return txn.Set(connIDKey(to), []byte(out))
	})
	if err != nil {
		t.Fatal(err)
	}
}
