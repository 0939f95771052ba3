package toolguard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/guards/builtin"
	"github.com/gatehouse-mcp/gatehouse/guards/host"
)

// Record describes one guard module known to the gateway: a built-in one
// (its code ships in the binary) or one an admin uploaded (its code is
// stored beside the record).
type Record struct {
	Name       string    `json:"name"`
	Builtin    bool      `json:"builtin"`
	Enabled    bool      `json:"enabled"`
	Order      int       `json:"order"`
	Hooks      []string  `json:"hooks"`
	SHA256     string    `json:"sha256"`
	Size       int       `json:"size"`
	Config     string    `json:"config,omitempty"`
	UploadedBy string    `json:"uploaded_by,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Store persists guard records, uploaded code and settings.
type Store interface {
	Put(ctx context.Context, g *Record, wasm []byte) error
	List(ctx context.Context) ([]*Record, error)
	Code(ctx context.Context, name string) ([]byte, error)
	Delete(ctx context.Context, name string) error
}

// SettingsStore keeps the settings document (the store's meta space).
type SettingsStore interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, value []byte) error
}

const settingsKey = "toolguard_settings"

// Errors the admin API maps to statuses.
var (
	ErrUnknownGuard = errors.New("no such guard")
	ErrBuiltin      = errors.New("built-in guards cannot be replaced or deleted")
	ErrBadName      = errors.New("a guard name is 1-64 lowercase letters, digits or dashes")
)

var namePattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)

// Manager owns the guard modules: it loads the built-in ones and the
// uploaded ones at start, keeps the engine's chain in the configured order
// and persists every change. It is safe for concurrent use.
type Manager struct {
	// trusted runs the built-in guards without interruption (they are
	// linear-time code we ship, and interruption slows wasm ~8x);
	// untrusted runs uploaded ones with deadlines enforced.
	trusted  *host.Host
	host     *host.Host
	engine   *Engine
	store    Store
	settings SettingsStore
	log      zerolog.Logger

	mu      sync.Mutex
	records map[string]*Record
	modules map[string]*host.Module
}

// NewManager loads every guard and settings into engine: built-in guards
// into trusted, uploaded ones into untrusted (which must be interruptible).
func NewManager(ctx context.Context, trusted, untrusted *host.Host, engine *Engine, store Store, settings SettingsStore, log zerolog.Logger) (*Manager, error) {
	m := &Manager{trusted: trusted, host: untrusted, engine: engine, store: store, settings: settings, log: log,
		records: map[string]*Record{}, modules: map[string]*host.Module{}}
	if raw, err := settings.Get(ctx, settingsKey); err == nil {
		s := DefaultSettings()
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("guard settings: %w", err)
		}
		engine.SetSettings(s)
	}
	stored, err := store.List(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*Record{}
	for _, r := range stored {
		byName[r.Name] = r
	}
	for i, name := range builtin.Names {
		code, err := builtin.Module(name)
		if err != nil {
			return nil, err
		}
		rec := byName[name]
		if rec == nil {
			rec = &Record{Name: name, Builtin: true, Enabled: true, Order: i}
		}
		if err := m.load(ctx, rec, code); err != nil {
			return nil, fmt.Errorf("built-in guard %s: %w", name, err)
		}
		if err := store.Put(ctx, rec, nil); err != nil {
			return nil, err
		}
	}
	for _, rec := range stored {
		if rec.Builtin {
			continue
		}
		code, err := store.Code(ctx, rec.Name)
		if err == nil {
			err = m.load(ctx, rec, code)
		}
		if err != nil {
			// A module that no longer loads stays listed, disabled, with
			// the reason in the log; the gateway starts regardless.
			log.Error().Err(err).Str("guard", rec.Name).Msg("uploaded guard does not load; it stays disabled")
			rec.Enabled = false
			m.records[rec.Name] = rec
		}
	}
	m.apply()
	return m, nil
}

// load compiles code for rec and registers both.
func (m *Manager) load(ctx context.Context, rec *Record, code []byte) error {
	h := m.host
	if rec.Builtin {
		h = m.trusted
	}
	mod, err := h.Load(ctx, rec.Name, code, []byte(rec.Config))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(code)
	rec.SHA256, rec.Size, rec.Hooks = hex.EncodeToString(sum[:]), len(code), mod.Hooks()
	m.mu.Lock()
	if old := m.modules[rec.Name]; old != nil {
		defer old.Close(context.WithoutCancel(ctx))
	}
	m.records[rec.Name], m.modules[rec.Name] = rec, mod
	m.mu.Unlock()
	return nil
}

// apply rebuilds the engine's chain from the records.
func (m *Manager) apply() {
	m.mu.Lock()
	defer m.mu.Unlock()
	recs := make([]*Record, 0, len(m.records))
	for _, r := range m.records {
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].Order != recs[j].Order {
			return recs[i].Order < recs[j].Order
		}
		return recs[i].Name < recs[j].Name
	})
	chain := make([]Entry, 0, len(recs))
	for _, r := range recs {
		if mod := m.modules[r.Name]; mod != nil {
			e := Entry{Name: r.Name, Module: mod, Enabled: r.Enabled}
			if r.Builtin {
				e.Native, e.NativeIn, e.Hash = builtin.Native(r.Name), builtin.NativeIn(r.Name), r.SHA256
			}
			chain = append(chain, e)
		}
	}
	m.engine.SetChain(chain)
}

// List returns the guard records in chain order.
func (m *Manager) List() []Record {
	m.mu.Lock()
	out := make([]Record, 0, len(m.records))
	for _, r := range m.records {
		out = append(out, *r)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Order != out[j].Order {
			return out[i].Order < out[j].Order
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Upload validates and stores a module under name (replacing an uploaded
// one of that name), enabled, at the end of the chain unless order says
// otherwise. A module that fails ABI checks or does not start is refused
// with the host's error and nothing is stored.
func (m *Manager) Upload(ctx context.Context, name string, code []byte, config string, by string) (*Record, error) {
	if !namePattern.MatchString(name) {
		return nil, ErrBadName
	}
	m.mu.Lock()
	existing := m.records[name]
	order := 0
	for _, r := range m.records {
		order = max(order, r.Order+1)
	}
	m.mu.Unlock()
	if existing != nil && existing.Builtin {
		return nil, ErrBuiltin
	}
	rec := &Record{Name: name, Enabled: true, Order: order, Config: config, UploadedBy: by}
	if existing != nil {
		rec.Order, rec.CreatedAt, rec.Enabled = existing.Order, existing.CreatedAt, existing.Enabled
	}
	if err := m.load(ctx, rec, code); err != nil {
		return nil, err
	}
	if err := m.store.Put(ctx, rec, code); err != nil {
		return nil, err
	}
	m.apply()
	cp := *rec
	return &cp, nil
}

// Update enables, disables or moves a guard.
func (m *Manager) Update(ctx context.Context, name string, enabled *bool, order *int) (*Record, error) {
	m.mu.Lock()
	rec := m.records[name]
	if rec == nil {
		m.mu.Unlock()
		return nil, ErrUnknownGuard
	}
	next := *rec
	m.mu.Unlock()
	if enabled != nil {
		if *enabled && m.modules[name] == nil {
			return nil, fmt.Errorf("guard %s does not load and cannot be enabled; upload it again", name)
		}
		next.Enabled = *enabled
	}
	if order != nil {
		next.Order = *order
	}
	if err := m.store.Put(ctx, &next, nil); err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.records[name] = &next
	m.mu.Unlock()
	m.apply()
	return &next, nil
}

// Delete removes an uploaded guard.
func (m *Manager) Delete(ctx context.Context, name string) error {
	m.mu.Lock()
	rec, mod := m.records[name], m.modules[name]
	m.mu.Unlock()
	switch {
	case rec == nil:
		return ErrUnknownGuard
	case rec.Builtin:
		return ErrBuiltin
	}
	if err := m.store.Delete(ctx, name); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.records, name)
	delete(m.modules, name)
	m.mu.Unlock()
	m.apply()
	if mod != nil {
		mod.Close(context.WithoutCancel(ctx))
	}
	return nil
}

// SetSettings validates, persists and applies settings.
func (m *Manager) SetSettings(ctx context.Context, s Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := m.settings.Put(ctx, settingsKey, raw); err != nil {
		return err
	}
	m.engine.SetSettings(s)
	return nil
}

// Settings returns the engine's current settings.
func (m *Manager) Settings() Settings { return m.engine.Settings() }

// Engine is the engine the manager feeds.
func (m *Manager) Engine() *Engine { return m.engine }
