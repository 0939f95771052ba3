package audit

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Sink delivers audit entries to a system the security team already runs.
// Deliver takes a batch in log order and either accepts all of it (nil)
// or fails; a failed batch is delivered again, so a sink may see an entry
// twice after a crash but never misses one (entries carry ids to
// deduplicate on).
type Sink interface {
	Deliver(ctx context.Context, entries []*Entry) error
	Close() error
}

// Queue is the per-sink delivery queue kept in the store.
type Queue interface {
	PendingAudit(ctx context.Context, sink string, n int) ([]*Entry, error)
	AckAudit(ctx context.Context, sink string, ids []string) error
}

// Dispatcher drains one sink's queue: it wakes when entries are written
// (Wake, an audit.Log observer) and at least every second, delivers in
// batches, and backs off exponentially (to a minute) while the sink
// fails. A slow or dead sink only grows its queue on disk; it never holds
// up the gateway or another sink.
type Dispatcher struct {
	name      string
	sink      Sink
	queue     Queue
	batch     int
	timeout   time.Duration
	log       zerolog.Logger
	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	mu        sync.Mutex
	delivered int64
	failures  int64
	lastErr   string
}

// NewDispatcher starts draining name's queue into sink.
func NewDispatcher(name string, sink Sink, queue Queue, batch int, timeout time.Duration, log zerolog.Logger) *Dispatcher {
	if batch <= 0 {
		batch = 256
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	d := &Dispatcher{name: name, sink: sink, queue: queue, batch: batch, timeout: timeout,
		log: log.With().Str("sink", name).Logger(), wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go d.run()
	return d
}

// Wake tells the dispatcher entries are waiting; it never blocks.
func (d *Dispatcher) Wake(*Entry) {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Stats reports what the dispatcher has done.
func (d *Dispatcher) Stats() (delivered, failures int64, lastErr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.delivered, d.failures, d.lastErr
}

func (d *Dispatcher) run() {
	defer close(d.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	backoff := time.Duration(0)
	for {
		if backoff > 0 {
			select {
			case <-time.After(backoff):
			case <-d.stop:
				return
			}
		}
		more, err := d.drainOnce()
		switch {
		case err != nil:
			backoff = min(max(backoff*2, 250*time.Millisecond), time.Minute)
			d.mu.Lock()
			d.failures++
			d.lastErr = err.Error()
			d.mu.Unlock()
			d.log.Warn().Err(err).Dur("retry_in", backoff).Msg("audit sink delivery failed; entries stay queued")
			continue
		case more:
			backoff = 0
			continue
		}
		backoff = 0
		select {
		case <-d.wake:
		case <-tick.C:
		case <-d.stop:
			return
		}
	}
}

// drainOnce delivers one batch; more reports a full batch (more may wait).
func (d *Dispatcher) drainOnce() (more bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	entries, err := d.queue.PendingAudit(ctx, d.name, d.batch)
	if err != nil || len(entries) == 0 {
		return false, err
	}
	if err := d.sink.Deliver(ctx, entries); err != nil {
		return false, err
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	if err := d.queue.AckAudit(context.Background(), d.name, ids); err != nil {
		return false, err
	}
	d.mu.Lock()
	d.delivered += int64(len(entries))
	d.mu.Unlock()
	return len(entries) == d.batch, nil
}

// Close stops the dispatcher (queued entries wait for the next start) and
// closes the sink.
func (d *Dispatcher) Close() error {
	d.closeOnce.Do(func() { close(d.stop) })
	<-d.done
	return d.sink.Close()
}

// Redacting wraps a sink so entries about sensitive connectors leave the
// gateway redacted (the default; a sink the security team trusts with
// them sets include_sensitive).
func Redacting(s Sink) Sink { return redacting{s} }

type redacting struct{ Sink }

func (r redacting) Deliver(ctx context.Context, entries []*Entry) error {
	out := make([]*Entry, len(entries))
	for i, e := range entries {
		if e.Sensitive {
			red := e.Redact()
			out[i] = &red
		} else {
			out[i] = e
		}
	}
	return r.Sink.Deliver(ctx, out)
}
