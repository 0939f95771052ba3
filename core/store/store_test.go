package store

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
)

func testBox(t testing.TB, b byte) *secret.Box {
	t.Helper()
	box, err := secret.New(bytes.Repeat([]byte{b}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// openAt opens the store in dir with key byte b and closes it at test end
// unless the test closed it already.
func openAt(t testing.TB, dir string, b byte) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, testBox(t, b), zerolog.Nop())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.db.Close() }) // a second close is harmless
	return s
}

func newStore(t testing.TB) *Store { return openAt(t, t.TempDir(), 1) }

func httpConnector(slug string) *connector.Connector {
	return &connector.Connector{
		Name:      "Connector " + slug,
		Slug:      slug,
		Transport: connector.TransportStreamableHTTP,
		URL:       "https://" + slug + ".example.com/mcp",
		Headers:   map[string]string{"X-Api-Key": "{API_KEY}", "X-Team": "platform"},
		Auth:      connector.Auth{Kind: connector.AuthBearer, Token: "token-of-" + slug},
		Status:    connector.StatusActive,
		Owner:     "alice",
	}
}

func stdioConnector(slug string) *connector.Connector {
	return &connector.Connector{
		Name:      "Connector " + slug,
		Slug:      slug,
		Transport: connector.TransportSTDIO,
		Command:   "mcp-server-" + slug,
		Args:      []string{"--stdio"},
		Env:       map[string]string{"API_KEY": "env-secret-of-" + slug, "EMPTY": ""},
		Auth:      connector.Auth{Kind: connector.AuthNone},
		Status:    connector.StatusDraft,
		Owner:     "bob",
	}
}

func mustCreate(t testing.TB, s *Store, c *connector.Connector) *connector.Connector {
	t.Helper()
	if err := s.Connectors().Create(context.Background(), c); err != nil {
		t.Fatalf("Create %s: %v", c.Slug, err)
	}
	return c
}

// rawValues returns every live key and value in the database, Badger's own
// internal keys included, and with allVersions also overwritten and deleted
// versions.
func rawValues(t *testing.T, db *badger.DB, allVersions bool) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.AllVersions = allVersions
		opts.InternalAccess = true
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out[string(it.Item().KeyCopy(nil))] = append(out[string(it.Item().Key())], v...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpen(t *testing.T) {
	t.Run("a fresh data dir is migrated to the latest schema version", func(t *testing.T) {
		s := newStore(t)
		v, err := schemaVersion(s.db)
		if err != nil {
			t.Fatal(err)
		}
		if want := migrations[len(migrations)-1].to; v != want {
			t.Fatalf("schema version = %d, want %d", v, want)
		}
	})

	t.Run("an in-memory store works without a data dir", func(t *testing.T) {
		s, err := OpenInMemory(testBox(t, 1))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		mustCreate(t, s, httpConnector("mem"))
		if _, err := s.Connectors().Get(context.Background(), "mem"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a missing box is refused", func(t *testing.T) {
		if _, err := Open(context.Background(), t.TempDir(), nil, zerolog.Nop()); err == nil {
			t.Fatal("Open accepted a nil box")
		}
	})

	t.Run("a cancelled context is refused before any work", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Open(ctx, t.TempDir(), testBox(t, 1), zerolog.Nop()); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})

	t.Run("a data dir sealed under another key fails to open with ErrDecrypt", func(t *testing.T) {
		dir := t.TempDir()
		s := openAt(t, dir, 1)
		mustCreate(t, s, httpConnector("github"))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		_, err := Open(context.Background(), dir, testBox(t, 2), zerolog.Nop())
		if !errors.Is(err, secret.ErrDecrypt) {
			t.Fatalf("err = %v, want ErrDecrypt", err)
		}
		if !strings.Contains(err.Error(), "GATEHOUSE_SECRET_KEY") {
			t.Fatalf("error does not say what to do: %v", err)
		}
		// The refused open released the directory: the right key still works.
		s = openAt(t, dir, 1)
		if _, err := s.Connectors().Get(context.Background(), "github"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMigrate(t *testing.T) {
	var ran []uint64
	step := func(to uint64) migration {
		return migration{to: to, name: "test step", apply: func(txn *badger.Txn) error {
			ran = append(ran, to)
			return txn.Set([]byte("test/step"), []byte{byte(to)})
		}}
	}
	s, err := OpenInMemory(testBox(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	t.Run("pending migrations run in order and record the version", func(t *testing.T) {
		if err := migrate(ctx, s.db, []migration{migrations[0], step(2), step(3)}); err != nil {
			t.Fatal(err)
		}
		if v, _ := schemaVersion(s.db); v != 3 || len(ran) != 2 || ran[0] != 2 || ran[1] != 3 {
			t.Fatalf("version %d, ran %v; want 3, [2 3]", v, ran)
		}
	})

	t.Run("applied migrations do not run again", func(t *testing.T) {
		ran = nil
		if err := migrate(ctx, s.db, []migration{migrations[0], step(2), step(3)}); err != nil {
			t.Fatal(err)
		}
		if len(ran) != 0 {
			t.Fatalf("ran %v again", ran)
		}
	})

	t.Run("a failing migration leaves the version where it was", func(t *testing.T) {
		boom := migration{to: 4, name: "boom", apply: func(*badger.Txn) error { return errors.New("boom") }}
		err := migrate(ctx, s.db, []migration{migrations[0], step(2), step(3), boom})
		if err == nil || !strings.Contains(err.Error(), "version 4") {
			t.Fatalf("err = %v", err)
		}
		if v, _ := schemaVersion(s.db); v != 3 {
			t.Fatalf("version = %d, want 3", v)
		}
	})

	t.Run("a data dir newer than the binary is refused", func(t *testing.T) {
		err := migrate(ctx, s.db, migrations)
		if err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("err = %v, want a newer-schema error", err)
		}
	})
}
