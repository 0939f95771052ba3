// Package store keeps Gatehouse's state in Badger behind small typed
// repositories: connectors, per-user credentials and install metadata.
// Secrets are sealed with a secret.Box before they reach the disk, every
// write is synced before it returns, and the key layout (keys.go) carries a
// schema version with migrations run at Open.
//
// Badger is not context-aware: methods check the context before they start
// and between retries, but a transaction in flight runs to its end.
package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/secret"
)

// Errors callers branch on with errors.Is. Returned errors wrap them with the
// name of what was missing or clashing.
var (
	// ErrNotFound: the connector, credential or meta key does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a connector with that slug (or id) already exists.
	ErrConflict = errors.New("already exists")
	// ErrVersionMismatch: the record changed since the caller read it.
	ErrVersionMismatch = errors.New("version mismatch")
)

// maxTxnAttempts bounds retries of a transaction that lost a write race.
// Each lost race means another writer committed, so exhausting it takes
// sustained contention on one key from many writers.
const maxTxnAttempts = 100

// keyCheckPlaintext is sealed into sys/key_check on first open.
const keyCheckPlaintext = "gatehouse key check v1"

// Store is the open state database. It is safe for concurrent use.
type Store struct {
	db    *badger.DB
	box   *secret.Box
	now   func() time.Time
	newID func() string
	// credGen counts the writes to users and tokens (credentials.go): an
	// authenticator's cache of token lookups is valid while it is unchanged.
	credGen atomic.Uint64

	connectors  ConnectorRepo
	credentials CredentialRepo
	meta        MetaRepo
	users       UserRepo
	tokens      TokenRepo
	policies    PolicyRepo
	audit       AuditRepo
	templates   TemplateRepo
	requests    RequestRepo
	guards      GuardRepo
	toolRules   ToolRuleRepo
	offloads    OffloadRepo
}

// Open opens (creating if needed) the store in dir, runs pending migrations
// and checks that box holds the key the data dir was written with; a wrong
// key fails here, wrapping secret.ErrDecrypt, rather than on every read.
// Badger's own log lines reach log at warn level and above.
func Open(ctx context.Context, dir string, box *secret.Box, log zerolog.Logger) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts := badger.DefaultOptions(dir).
		WithSyncWrites(true). // an admin write is acknowledged only once durable
		// Gateway state is small: Badger's defaults (1 GiB value-log files,
		// 64 MiB memtables) would reserve far more disk and memory than it uses.
		WithValueLogFileSize(64 << 20).
		WithMemTableSize(16 << 20).
		WithLogger(badgerLogger{log.With().Str("component", "badger").Logger()})
	s, err := open(ctx, opts, box)
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", dir, err)
	}
	return s, nil
}

// OpenInMemory opens an empty store that lives in memory only, for tests.
func OpenInMemory(box *secret.Box) (*Store, error) {
	opts := badger.DefaultOptions("").WithInMemory(true).WithLogger(badgerLogger{zerolog.Nop()})
	s, err := open(context.Background(), opts, box)
	if err != nil {
		return nil, fmt.Errorf("open in-memory store: %w", err)
	}
	return s, nil
}

func open(ctx context.Context, opts badger.Options, box *secret.Box) (*Store, error) {
	if box == nil {
		return nil, errors.New("a secret box is required")
	}
	db, err := badger.Open(opts)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, box: box, now: func() time.Time { return time.Now().UTC() }, newID: newID}
	s.connectors.s = s
	s.credentials.s = s
	s.meta.s = s
	s.users.s = s
	s.tokens.s = s
	s.policies.s = s
	s.audit.s = s
	s.templates.s = s
	s.requests.s = s
	s.guards.s = s
	s.toolRules.s = s
	s.offloads.s = s
	if err := migrate(ctx, db, migrations); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if err := s.checkKey(ctx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

// checkKey seals a known value on first open and opens it on later ones.
func (s *Store) checkKey(ctx context.Context) error {
	aad := []byte(keyKeyCheck)
	return s.update(ctx, func(txn *badger.Txn) error {
		item, err := txn.Get(aad)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return txn.Set(aad, s.box.Seal([]byte(keyCheckPlaintext), aad))
		}
		if err != nil {
			return err
		}
		return item.Value(func(val []byte) error {
			if _, err := s.box.Open(val, aad); err != nil {
				return fmt.Errorf("the secret key does not match the one this data dir was written with; "+
					"set GATEHOUSE_SECRET_KEY (or restore secret.key) to the original key: %w", err)
			}
			return nil
		})
	})
}

// Close flushes and closes the database. The Store is unusable afterwards.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Connectors returns the connector repository.
func (s *Store) Connectors() *ConnectorRepo { return &s.connectors }

// Credentials returns the per-user credential repository.
func (s *Store) Credentials() *CredentialRepo { return &s.credentials }

// Users returns the user repository.
func (s *Store) Users() *UserRepo { return &s.users }

// Tokens returns the API token repository.
func (s *Store) Tokens() *TokenRepo { return &s.tokens }

// Policies returns the policy rule repository.
func (s *Store) Policies() *PolicyRepo { return &s.policies }

// Audit returns the append-only audit log repository.
func (s *Store) Audit() *AuditRepo { return &s.audit }

// Templates returns the custom catalog template repository.
func (s *Store) Templates() *TemplateRepo { return &s.templates }

// Requests returns the connector request repository.
func (s *Store) Requests() *RequestRepo { return &s.requests }

// Guards returns the guard module repository.
func (s *Store) Guards() *GuardRepo { return &s.guards }

// ToolRules returns the tool access rule repository.
func (s *Store) ToolRules() *ToolRuleRepo { return &s.toolRules }

// Meta returns the install-state key/value repository.
func (s *Store) Meta() *MetaRepo { return &s.meta }

// update runs fn in a read-write transaction, retrying from scratch when a
// concurrent commit touched a key fn read. fn may therefore run several times
// and must have no effect outside txn.
func (s *Store) update(ctx context.Context, fn func(txn *badger.Txn) error) error {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := s.db.Update(fn)
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
		if attempt == maxTxnAttempts {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		// Jitter spreads out writers that collided so they do not collide again.
		time.Sleep(time.Duration(rand.IntN(min(attempt, 20))+1) * 50 * time.Microsecond)
	}
}

// view runs fn in a read-only transaction after checking ctx.
func (s *Store) view(ctx context.Context, fn func(txn *badger.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// getValue returns a copy of key's value, or ErrKeyNotFound from Badger.
func getValue(txn *badger.Txn, key []byte) ([]byte, error) {
	item, err := txn.Get(key)
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// badgerLogger forwards Badger's warnings and errors to zerolog and drops its
// chatty info and debug lines.
type badgerLogger struct{ log zerolog.Logger }

func (l badgerLogger) Errorf(f string, v ...any) {
	l.log.Error().Msg(strings.TrimSpace(fmt.Sprintf(f, v...)))
}

func (l badgerLogger) Warningf(f string, v ...any) {
	l.log.Warn().Msg(strings.TrimSpace(fmt.Sprintf(f, v...)))
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
