// Package offload keeps large tool outputs out of the client's context:
// a tools/call result above a size is stored (core/store, sealed with
// core/secret, with a TTL and per-user and global quotas) and replaced by
// a short preview plus a resource_link the same user reads back through
// resources/read on the same connector, whole or by ranges.
//
// The package owns the stored outputs, their quotas and expiry, the URI
// form (uri.go), how a result is rewritten (rewrite.go) and how a read is
// answered in each protocol era (read.go). The pipeline stage that calls
// it is core/pipeline.Offload.
package offload

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// Defaults of Config's zero fields.
const (
	DefaultThreshold  = 10 * 1024
	DefaultPreview    = 1024
	DefaultTTL        = time.Hour
	DefaultUserQuota  = 256 << 20
	DefaultTotalQuota = 4 << 30
	// tombstoneKeep is how long an expired output's record stays, so its
	// owner is told "expired" rather than "not found".
	tombstoneKeep = 24 * time.Hour
)

// Config sets the offloading bounds.
type Config struct {
	// Threshold is the output size in bytes (text, decoded binary and
	// structured content together) above which a result is offloaded;
	// a connector's advanced.offload_threshold_bytes overrides it.
	Threshold int
	// Preview is how many bytes of an offloaded text stay inline; a
	// content block no larger than this stays as it is.
	Preview int
	// TTL is how long an offloaded output can be read back.
	TTL time.Duration
	// UserQuota and TotalQuota bound the bytes stored for one user and
	// for the whole gateway.
	UserQuota, TotalQuota int64
}

func (c Config) withDefaults() Config {
	if c.Threshold <= 0 {
		c.Threshold = DefaultThreshold
	}
	if c.Preview <= 0 {
		c.Preview = DefaultPreview
	}
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.UserQuota <= 0 {
		c.UserQuota = DefaultUserQuota
	}
	if c.TotalQuota <= 0 {
		c.TotalQuota = DefaultTotalQuota
	}
	return c
}

// Store keeps the outputs (core/store.OffloadRepo implements it).
type Store interface {
	Put(ctx context.Context, o store.OffloadObject, data []byte) error
	Get(ctx context.Context, id string) (store.OffloadObject, error)
	ReadRange(ctx context.Context, o store.OffloadObject, off, n int64) ([]byte, error)
	Expire(ctx context.Context, o store.OffloadObject, keep time.Duration) error
	Delete(ctx context.Context, id string) error
	List(ctx context.Context) ([]store.OffloadObject, error)
}

// Errors callers branch on with errors.Is / errors.As.
var (
	// ErrNotFound: no output with that id is the caller's on that
	// connector (also when it is someone else's: existence is not told).
	ErrNotFound = errors.New("offloaded output not found")
	// ErrExpired: the caller's output outlived its TTL.
	ErrExpired = errors.New("offloaded output expired")
	// ErrBadURI: the URI is not a well-formed offload URI.
	ErrBadURI = errors.New("malformed offload URI")
)

// QuotaError refuses storing an output that would pass a quota.
type QuotaError struct {
	// Scope is "user" (the caller's quota) or "gateway" (the total).
	Scope       string
	Used, Limit int64
	Need        int64
}

func (e *QuotaError) Error() string {
	what := "your offload quota"
	if e.Scope == "gateway" {
		what = "the gateway's offload quota"
	}
	return fmt.Sprintf("%s is full: %d of %d bytes in use, this output needs %d more; stored outputs expire after their TTL, or an operator raises offload.%s_quota_bytes",
		what, e.Used, e.Limit, e.Need, map[string]string{"user": "user", "gateway": "total"}[e.Scope])
}

// Options are Offloader's test seams.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// NewID makes output ids (default 128 random bits in hex).
	NewID func() string
}

// Offloader stores outputs and reads them back. It is safe for
// concurrent use.
type Offloader struct {
	cfg   Config
	st    Store
	now   func() time.Time
	newID func() string
	log   zerolog.Logger

	mu    sync.Mutex
	live  map[string]store.OffloadObject // by id, bytes still stored
	used  map[string]int64               // bytes stored, by user
	total int64
}

// New returns an Offloader over st; the usage of the quotas is rebuilt
// from what st holds.
func New(ctx context.Context, cfg Config, st Store, opts Options, log zerolog.Logger) (*Offloader, error) {
	o := &Offloader{cfg: cfg.withDefaults(), st: st, now: opts.Now, newID: opts.NewID, log: log,
		live: map[string]store.OffloadObject{}, used: map[string]int64{}}
	if o.now == nil {
		o.now = time.Now
	}
	if o.newID == nil {
		o.newID = randomID
	}
	list, err := st.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("offload: %w", err)
	}
	for _, obj := range list {
		if !obj.Gone {
			o.add(obj)
		}
	}
	return o, nil
}

// Config is the configuration in force (defaults applied).
func (o *Offloader) Config() Config { return o.cfg }

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (o *Offloader) add(obj store.OffloadObject) {
	o.live[obj.ID] = obj
	o.used[obj.User] += obj.Size
	o.total += obj.Size
}

func (o *Offloader) remove(id string) (store.OffloadObject, bool) {
	obj, ok := o.live[id]
	if !ok {
		return obj, false
	}
	delete(o.live, id)
	o.used[obj.User] -= obj.Size
	if o.used[obj.User] <= 0 {
		delete(o.used, obj.User)
	}
	o.total -= obj.Size
	return obj, true
}

// Item is one output to store.
type Item struct {
	User, Connector, Tool string
	MimeType              string
	Text                  bool
	Data                  []byte
}

// Stored is an output once stored.
type Stored struct {
	ID, URI string
	Size    int64
	Expires time.Time
}

// Put stores it after removing expired outputs, or refuses it with a
// *QuotaError.
func (o *Offloader) Put(ctx context.Context, it Item) (Stored, error) {
	o.Sweep(ctx)
	now := o.now()
	obj := store.OffloadObject{ID: o.newID(), User: it.User, Connector: it.Connector, Tool: it.Tool,
		MimeType: it.MimeType, Text: it.Text, Size: int64(len(it.Data)), Created: now, Expires: now.Add(o.cfg.TTL)}
	o.mu.Lock()
	if err := o.fitsLocked(it.User, obj.Size); err != nil {
		o.mu.Unlock()
		return Stored{}, err
	}
	o.add(obj) // reserved while it is written
	o.mu.Unlock()
	if err := o.st.Put(ctx, obj, it.Data); err != nil {
		o.mu.Lock()
		o.remove(obj.ID)
		o.mu.Unlock()
		_ = o.st.Delete(context.WithoutCancel(ctx), obj.ID) // chunks written before the failure
		return Stored{}, err
	}
	return Stored{ID: obj.ID, URI: URI(it.Connector, obj.ID), Size: obj.Size, Expires: obj.Expires}, nil
}

// fits returns the *QuotaError storing need more bytes for user would
// meet, or nil.
func (o *Offloader) fits(user string, need int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fitsLocked(user, need)
}

func (o *Offloader) fitsLocked(user string, need int64) error {
	switch {
	case o.used[user]+need > o.cfg.UserQuota:
		return &QuotaError{Scope: "user", Used: o.used[user], Limit: o.cfg.UserQuota, Need: need}
	case o.total+need > o.cfg.TotalQuota:
		return &QuotaError{Scope: "gateway", Used: o.total, Limit: o.cfg.TotalQuota, Need: need}
	}
	return nil
}

// Drop removes a stored output (one of a result that could not be
// offloaded whole).
func (o *Offloader) Drop(ctx context.Context, id string) {
	o.mu.Lock()
	o.remove(id)
	o.mu.Unlock()
	if err := o.st.Delete(ctx, id); err != nil {
		o.log.Warn().Err(err).Str("offload", id).Msg("could not delete an offloaded output")
	}
}

// Sweep expires every output past its TTL: its bytes are removed and its
// quota freed; a tombstone tells its owner "expired" for a day.
func (o *Offloader) Sweep(ctx context.Context) {
	now := o.now()
	var due []store.OffloadObject
	o.mu.Lock()
	for id, obj := range o.live {
		if !now.Before(obj.Expires) {
			o.remove(id)
			due = append(due, obj)
		}
	}
	o.mu.Unlock()
	for _, obj := range due {
		if err := o.st.Expire(ctx, obj, tombstoneKeep); err != nil {
			o.log.Warn().Err(err).Str("offload", obj.ID).Msg("could not remove an expired offloaded output")
		}
	}
}

// Run sweeps every interval until ctx ends.
func (o *Offloader) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			o.Sweep(ctx)
		}
	}
}

// Usage is the bytes stored now for user and for the whole gateway.
func (o *Offloader) Usage(user string) (mine, total int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.used[user], o.total
}

// Piece is what a read returns: part or all of an output.
type Piece struct {
	Object store.OffloadObject
	Data   []byte
	// Offset is where Data starts; Next is the offset of what follows,
	// Object.Size at the end.
	Offset, Next int64
}

// Read returns the part of the output uri names, when user owns it and
// it was made on connector slug.
func (o *Offloader) Read(ctx context.Context, user, slug, uri string) (Piece, error) {
	ref, err := ParseURI(uri)
	if err != nil {
		return Piece{}, err
	}
	if ref.Connector != slug {
		return Piece{}, ErrNotFound
	}
	obj, err := o.st.Get(ctx, ref.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Piece{}, ErrNotFound
	case err != nil:
		return Piece{}, err
	case obj.User != user || obj.Connector != slug:
		return Piece{}, ErrNotFound
	case obj.Gone:
		return Piece{Object: obj}, ErrExpired
	case !o.now().Before(obj.Expires):
		o.mu.Lock()
		_, mine := o.remove(obj.ID)
		o.mu.Unlock()
		if mine {
			if err := o.st.Expire(ctx, obj, tombstoneKeep); err != nil {
				o.log.Warn().Err(err).Str("offload", obj.ID).Msg("could not remove an expired offloaded output")
			}
		}
		return Piece{Object: obj}, ErrExpired
	}
	if ref.Offset > obj.Size {
		return Piece{}, fmt.Errorf("%w: offset %d is past the output's end (%d bytes)", ErrBadURI, ref.Offset, obj.Size)
	}
	n := obj.Size - ref.Offset
	if ref.Length >= 0 {
		n = min(n, ref.Length)
	}
	if !obj.Text {
		data, err := o.st.ReadRange(ctx, obj, ref.Offset, n)
		if err != nil {
			return Piece{}, err
		}
		return Piece{Object: obj, Data: data, Offset: ref.Offset, Next: ref.Offset + int64(len(data))}, nil
	}
	return o.readText(ctx, obj, ref.Offset, n)
}

// readText reads n bytes of text from off, moved to rune boundaries: the
// start forward, the end back (at least one rune unless at the end), so
// every piece is valid UTF-8 and the pieces, read one after the other by
// Next, add up to the whole text.
func (o *Offloader) readText(ctx context.Context, obj store.OffloadObject, off, n int64) (Piece, error) {
	const slack = 4 // a rune is at most 4 bytes
	from := off
	to := min(off+n+slack, obj.Size)
	data, err := o.st.ReadRange(ctx, obj, from, to-from)
	if err != nil {
		return Piece{}, err
	}
	start := 0
	for start < len(data) && !runeStart(data[start]) {
		start++
	}
	end := min(int(n), len(data))
	for end > start && end < len(data) && !runeStart(data[end]) {
		end--
	}
	if end == start && end < len(data) {
		end++
		for end < len(data) && !runeStart(data[end]) {
			end++
		}
	}
	return Piece{Object: obj, Data: data[start:end], Offset: off + int64(start), Next: off + int64(end)}, nil
}

// runeStart reports whether b can start a UTF-8 sequence.
func runeStart(b byte) bool { return b&0xC0 != 0x80 }
