package proxy

import (
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
)

// parking holds the 2026-07-28 calls relayed over legacy sessions
// (downgrade.go): the ids they go upstream with, and the calls parked
// while the client answers an input request, by their requestState. It
// has its own lock, apart from the proxy's sessions.
type parking struct {
	next  atomic.Int64
	mu    sync.Mutex
	calls map[string]*downgraded
}

func newParking() *parking { return &parking{calls: map[string]*downgraded{}} }

// nextID is a fresh upstream id ("gm-N"), unique within the gateway.
func (k *parking) nextID() json.RawMessage {
	return json.RawMessage(strconv.Quote("gm-" + strconv.FormatInt(k.next.Add(1), 10)))
}

// park stores d under token.
func (k *parking) park(token string, d *downgraded) {
	k.mu.Lock()
	k.calls[token] = d
	k.mu.Unlock()
}

// unpark takes a parked call out of the table (nil: unknown, used or
// expired).
func (k *parking) unpark(token string) *downgraded {
	k.mu.Lock()
	defer k.mu.Unlock()
	d := k.calls[token]
	delete(k.calls, token)
	return d
}
