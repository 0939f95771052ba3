package store

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/gatehouse-mcp/gatehouse/core/secret"
)

func TestCredentials(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	mustCreate(t, s, httpConnector("github"))
	mustCreate(t, s, httpConnector("jira"))
	creds := s.Credentials()

	steps := []struct {
		name string
		do   func() error
		user string
		slug string
		want map[string]string
	}{
		{"a user without values gets an empty map", nil, "alice", "github", map[string]string{}},
		{"set values are read back", func() error {
			return creds.Set(ctx, "alice", "github", map[string]string{"API_KEY": "a1", "ORG": "acme"})
		}, "alice", "github", map[string]string{"API_KEY": "a1", "ORG": "acme"}},
		{"another user does not see them", func() error {
			return creds.Set(ctx, "bob", "github", map[string]string{"API_KEY": "b1"})
		}, "bob", "github", map[string]string{"API_KEY": "b1"}},
		{"the first user's values are unchanged by the second's", nil, "alice", "github",
			map[string]string{"API_KEY": "a1", "ORG": "acme"}},
		{"the same user has separate values per connector", nil, "alice", "jira", map[string]string{}},
		{"a later set merges into the stored values", func() error {
			return creds.Set(ctx, "alice", "github", map[string]string{"API_KEY": "a2"})
		}, "alice", "github", map[string]string{"API_KEY": "a2", "ORG": "acme"}},
		{"an empty value removes that name", func() error {
			return creds.Set(ctx, "alice", "github", map[string]string{"ORG": ""})
		}, "alice", "github", map[string]string{"API_KEY": "a2"}},
		{"delete removes all of one user's values", func() error {
			return creds.Delete(ctx, "alice", "github")
		}, "alice", "github", map[string]string{}},
		{"delete leaves other users' values", nil, "bob", "github", map[string]string{"API_KEY": "b1"}},
		{"deleting values never set is not an error", func() error {
			return creds.Delete(ctx, "carol", "github")
		}, "carol", "github", map[string]string{}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.do != nil {
				if err := st.do(); err != nil {
					t.Fatal(err)
				}
			}
			got, err := creds.Get(ctx, st.user, st.slug)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !maps.Equal(got, st.want) {
				t.Fatalf("Get(%s, %s) = %v, want %v", st.user, st.slug, got, st.want)
			}
		})
	}

	t.Run("values for a missing connector are ErrNotFound", func(t *testing.T) {
		if err := creds.Set(ctx, "alice", "nope", map[string]string{"K": "v"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Set = %v", err)
		}
		if _, err := creds.Get(ctx, "alice", "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get = %v", err)
		}
		if err := creds.Delete(ctx, "alice", "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Delete = %v", err)
		}
	})

	t.Run("an empty user is refused", func(t *testing.T) {
		if err := creds.Set(ctx, "", "github", map[string]string{"K": "v"}); err == nil {
			t.Fatal("Set accepted an empty user")
		}
	})

	t.Run("one user's sealed values copied to another user fail to open", func(t *testing.T) {
		if err := creds.Set(ctx, "mallory", "github", map[string]string{"API_KEY": "m1"}); err != nil {
			t.Fatal(err)
		}
		c, _ := s.Connectors().Get(ctx, "github")
		err := s.db.Update(func(txn *badger.Txn) error {
			v, err := getValue(txn, credKey(c.ID, "bob"))
			if err != nil {
				return err
			}
			return txn.Set(credKey(c.ID, "mallory"), v)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := creds.Get(ctx, "mallory", "github"); !errors.Is(err, secret.ErrDecrypt) {
			t.Fatalf("Get = %v, %v; want ErrDecrypt", got, err)
		}
	})
}
