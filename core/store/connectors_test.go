package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

func TestConnectorCreate(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	mustCreate(t, s, httpConnector("taken"))

	tests := []struct {
		name    string
		c       *connector.Connector
		wantErr error
	}{
		{"an HTTP connector is stored", httpConnector("github"), nil},
		{"a STDIO connector is stored", stdioConnector("local"), nil},
		{"a caller-chosen id is kept", func() *connector.Connector {
			c := httpConnector("with-id")
			c.ID = "my-id_1"
			return c
		}(), nil},
		{"a taken slug is a conflict", httpConnector("taken"), ErrConflict},
		{"an invalid connector is refused", func() *connector.Connector {
			c := httpConnector("bad")
			c.URL = "ftp://example.com"
			return c
		}(), connector.ErrInvalid},
		{"an id with a slash is refused", func() *connector.Connector {
			c := httpConnector("slash-id")
			c.ID = "a/b"
			return c
		}(), connector.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantID := tt.c.ID
			err := s.Connectors().Create(ctx, tt.c)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Create = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if !strings.Contains(err.Error(), tt.c.Slug) {
					t.Errorf("error does not name the slug: %v", err)
				}
				return
			}
			if tt.c.Version != 1 || tt.c.CreatedAt.IsZero() || !tt.c.CreatedAt.Equal(tt.c.UpdatedAt) ||
				tt.c.CreatedAt.Location() != time.UTC {
				t.Errorf("Create set version %d, created %v, updated %v", tt.c.Version, tt.c.CreatedAt, tt.c.UpdatedAt)
			}
			if wantID != "" && tt.c.ID != wantID || wantID == "" && len(tt.c.ID) != 32 {
				t.Errorf("id = %q", tt.c.ID)
			}
			got, err := s.Connectors().Get(ctx, tt.c.Slug)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			assertSameConnector(t, got, tt.c)
		})
	}

	t.Run("an id already in use is a conflict", func(t *testing.T) {
		first := mustCreate(t, s, httpConnector("first"))
		c := httpConnector("second")
		c.ID = first.ID
		if err := s.Connectors().Create(ctx, c); !errors.Is(err, ErrConflict) {
			t.Fatalf("Create = %v, want ErrConflict", err)
		}
	})

	t.Run("a failed create leaves the caller's connector untouched", func(t *testing.T) {
		c := httpConnector("taken")
		if err := s.Connectors().Create(ctx, c); err == nil {
			t.Fatal("Create succeeded")
		}
		if c.ID != "" || c.Version != 0 || !c.CreatedAt.IsZero() {
			t.Fatalf("caller's connector was modified: %+v", c)
		}
	})
}

func assertSameConnector(t *testing.T, got, want *connector.Connector) {
	t.Helper()
	g, w := *got, *want
	if !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) {
		t.Errorf("timestamps %v/%v, want %v/%v", g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt)
	}
	g.CreatedAt, g.UpdatedAt = w.CreatedAt, w.UpdatedAt
	if !reflect.DeepEqual(g, w) {
		t.Errorf("got  %+v\nwant %+v", g, w)
	}
}

func TestConnectorGetAndList(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for _, slug := range []string{"zeta", "alpha", "mid"} {
		mustCreate(t, s, httpConnector(slug))
	}

	t.Run("a missing slug is ErrNotFound naming the slug", func(t *testing.T) {
		_, err := s.Connectors().Get(ctx, "nope")
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"nope"`) {
			t.Fatalf("Get = %v", err)
		}
	})

	t.Run("list returns every connector sorted by slug with secrets opened", func(t *testing.T) {
		list, err := s.Connectors().List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var slugs []string
		for _, c := range list {
			slugs = append(slugs, c.Slug)
			if c.Auth.Token != "token-of-"+c.Slug {
				t.Errorf("%s token = %q", c.Slug, c.Auth.Token)
			}
		}
		if fmt.Sprint(slugs) != "[alpha mid zeta]" {
			t.Fatalf("slugs = %v", slugs)
		}
	})

	t.Run("changing a returned connector does not change the stored one", func(t *testing.T) {
		c, _ := s.Connectors().Get(ctx, "alpha")
		c.Headers["X-Team"] = "changed"
		again, _ := s.Connectors().Get(ctx, "alpha")
		if again.Headers["X-Team"] != "platform" {
			t.Fatal("the stored connector changed")
		}
	})

	t.Run("a cancelled context is refused", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Connectors().List(cctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("List = %v", err)
		}
	})
}

func TestConnectorUpdate(t *testing.T) {
	ctx := context.Background()
	setDesc := func(d string) func(*connector.Connector) error {
		return func(c *connector.Connector) error { c.Description = d; return nil }
	}
	tests := []struct {
		name     string
		expected int64
		mutate   func(*connector.Connector) error
		wantErr  error
		wantDesc string
	}{
		{"an update without an expected version applies", 0, setDesc("new"), nil, "new"},
		{"an update at the stored version applies", 1, setDesc("new"), nil, "new"},
		{"an update at a stale version is a version mismatch", 7, setDesc("new"), ErrVersionMismatch, ""},
		{"an error from mutate aborts the update", 0, func(c *connector.Connector) error {
			c.Description = "half-done"
			return errAbort
		}, errAbort, ""},
		{"changing the slug is refused", 0, func(c *connector.Connector) error {
			c.Slug = "renamed"
			return nil
		}, connector.ErrInvalid, ""},
		{"an invalid result is refused", 0, func(c *connector.Connector) error {
			c.Status = "paused"
			return nil
		}, connector.ErrInvalid, ""},
		{"version and timestamps set by mutate are overridden", 0, func(c *connector.Connector) error {
			c.Version, c.CreatedAt, c.Description = 99, c.CreatedAt.AddDate(-1, 0, 0), "new"
			return nil
		}, nil, "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			orig := mustCreate(t, s, httpConnector("github"))
			got, err := s.Connectors().Update(ctx, "github", tt.expected, tt.mutate)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Update = %v, want %v", err, tt.wantErr)
			}
			stored, _ := s.Connectors().Get(ctx, "github")
			if tt.wantErr != nil {
				if !strings.Contains(err.Error(), `"github"`) {
					t.Errorf("error does not name the slug: %v", err)
				}
				assertSameConnector(t, stored, orig)
				return
			}
			if got.Version != 2 || stored.Version != 2 || stored.Description != tt.wantDesc {
				t.Fatalf("after update: returned v%d, stored v%d %q", got.Version, stored.Version, stored.Description)
			}
			if !stored.CreatedAt.Equal(orig.CreatedAt) || stored.UpdatedAt.Before(orig.UpdatedAt) {
				t.Fatalf("timestamps: created %v (was %v), updated %v", stored.CreatedAt, orig.CreatedAt, stored.UpdatedAt)
			}
			if stored.Auth.Token != "token-of-github" {
				t.Fatalf("token = %q after update", stored.Auth.Token)
			}
		})
	}

	t.Run("updating a missing connector is ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Connectors().Update(ctx, "nope", 0, setDesc("x"))
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Update = %v", err)
		}
	})
}

var errAbort = errors.New("abort")

func TestConcurrentUpdatesAllApply(t *testing.T) {
	const workers, perWorker = 8, 5
	ctx := context.Background()
	s := newStore(t)
	mustCreate(t, s, httpConnector("busy"))

	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for range workers {
		wg.Go(func() {
			for range perWorker {
				_, err := s.Connectors().Update(ctx, "busy", 0, func(c *connector.Connector) error {
					c.Description += "x"
					return nil
				})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
	}
	c, err := s.Connectors().Get(ctx, "busy")
	if err != nil {
		t.Fatal(err)
	}
	if n := workers * perWorker; c.Version != int64(1+n) || len(c.Description) != n {
		t.Fatalf("version %d, description of %d chars; want %d and %d", c.Version, len(c.Description), 1+n, n)
	}
}

func TestConnectorDelete(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	mustCreate(t, s, httpConnector("gone"))
	mustCreate(t, s, httpConnector("kept"))
	for _, slug := range []string{"gone", "kept"} {
		if err := s.Credentials().Set(ctx, "alice", slug, map[string]string{"API_KEY": "k-" + slug}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("a deleted connector is gone along with its credentials", func(t *testing.T) {
		if err := s.Connectors().Delete(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Connectors().Get(ctx, "gone"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after Delete = %v", err)
		}
		for k := range rawValues(t, s.db, false) {
			if strings.Contains(k, "gone") {
				t.Errorf("key %q survived the delete", k)
			}
		}
	})

	t.Run("other connectors and their credentials are untouched", func(t *testing.T) {
		vals, err := s.Credentials().Get(ctx, "alice", "kept")
		if err != nil || vals["API_KEY"] != "k-kept" {
			t.Fatalf("credentials of kept = %v, %v", vals, err)
		}
	})

	t.Run("a re-created slug does not inherit the old credentials", func(t *testing.T) {
		mustCreate(t, s, httpConnector("gone"))
		vals, err := s.Credentials().Get(ctx, "alice", "gone")
		if err != nil || len(vals) != 0 {
			t.Fatalf("credentials = %v, %v; want none", vals, err)
		}
	})

	t.Run("deleting a missing connector is ErrNotFound", func(t *testing.T) {
		if err := s.Connectors().Delete(ctx, "never"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Delete = %v", err)
		}
	})
}
