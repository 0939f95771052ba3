package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/netguard"
)

// SettingsStore keeps the gateway's run-time settings (the store's meta
// records).
type SettingsStore interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, value []byte) error
}

// settingsKey is where the settings document is kept.
const settingsKey = "settings"

// Settings are the gateway settings an owner changes at run time; those
// fixed at start are in the config file (docs/config.md).
type Settings struct {
	// PrivateUpstreams are private destinations connector URLs may reach
	// although the SSRF guard refuses private ranges: CIDR blocks (or
	// single addresses) and host names. Ignored when the gateway starts
	// with upstream.allow_private_networks (everything is allowed).
	PrivateUpstreams PrivateUpstreams `json:"private_upstreams"`
}

// PrivateUpstreams is the SSRF guard's allow-list.
type PrivateUpstreams struct {
	CIDRs []string `json:"cidrs"`
	Hosts []string `json:"hosts"`
}

// LoadSettings reads the stored settings (the zero Settings when none
// were stored) and applies them to exceptions; serve calls it at start.
func LoadSettings(ctx context.Context, st SettingsStore, notFound error, exceptions *netguard.Exceptions) (Settings, error) {
	s, err := readSettings(ctx, st, notFound)
	if err != nil {
		return s, err
	}
	prefixes, hosts, err := netguard.ParseExceptions(s.PrivateUpstreams.CIDRs, s.PrivateUpstreams.Hosts)
	if err != nil {
		return s, err
	}
	exceptions.Set(prefixes, hosts)
	return s, nil
}

// readSettings reads the stored settings: the zero Settings when none
// were stored.
func readSettings(ctx context.Context, st SettingsStore, notFound error) (Settings, error) {
	var s Settings
	raw, err := st.Get(ctx, settingsKey)
	switch {
	case errors.Is(err, notFound):
		return s, nil
	case err != nil:
		return s, err
	}
	err = json.Unmarshal(raw, &s)
	return s, err
}

func (a *API) routeSettings(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	if len(rest) != 0 || a.SettingsStore == nil {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such admin endpoint", "")
		return
	}
	switch method {
	case fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResSettings, policy.ActRead) {
			s, err := readSettings(detach(ctx), a.SettingsStore, a.Errs.NotFound)
			if err != nil {
				a.internal(ctx, err)
				return
			}
			writeJSON(ctx, fasthttp.StatusOK, normalized(s))
		}
	case fasthttp.MethodPut:
		// Letting connectors reach the internal network is the owners'
		// (admins are denied settings writes by a rule, as STDIO commands).
		if !a.maySetSettings(p) {
			writeError(ctx, fasthttp.StatusForbidden, "forbidden", "only an owner may change settings: they decide what connectors can reach on the internal network", "")
			return
		}
		a.putSettings(ctx, p)
	default:
		methodNotAllowed(ctx, method)
	}
}

// maySetSettings reports whether p holds settings write: owners (also
// those who are admins too) and whoever a rule grants it.
func (a *API) maySetSettings(p auth.Principal) bool {
	if slices.Contains(a.heldBy(p), auth.RoleOwner) {
		return true
	}
	ok, err := a.Authz.Allowed(p.User, policy.ResSettings, policy.ActWrite)
	return err == nil && ok
}

func normalized(s Settings) Settings {
	if s.PrivateUpstreams.CIDRs == nil {
		s.PrivateUpstreams.CIDRs = []string{}
	}
	if s.PrivateUpstreams.Hosts == nil {
		s.PrivateUpstreams.Hosts = []string{}
	}
	return s
}

func (a *API) putSettings(ctx *fasthttp.RequestCtx, p auth.Principal) {
	var s Settings
	if err := decodeStrict(ctx.PostBody(), &s); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	prefixes, hosts, err := netguard.ParseExceptions(s.PrivateUpstreams.CIDRs, s.PrivateUpstreams.Hosts)
	if err != nil {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), "private_upstreams")
		return
	}
	before, err := readSettings(detach(ctx), a.SettingsStore, a.Errs.NotFound)
	if err != nil {
		a.internal(ctx, err)
		return
	}
	s = normalized(s)
	raw, err := json.Marshal(s)
	if err != nil {
		a.internal(ctx, err)
		return
	}
	if err := a.SettingsStore.Put(detach(ctx), settingsKey, raw); err != nil {
		a.internal(ctx, err)
		return
	}
	if a.PrivateExceptions != nil {
		a.PrivateExceptions.Set(prefixes, hosts)
	}
	a.record(ctx, p, "settings.update", "private_upstreams", map[string]any{"before": normalized(before).PrivateUpstreams, "after": s.PrivateUpstreams})
	writeJSON(ctx, fasthttp.StatusOK, s)
}

// reachable reports whether the guard lets a dial of host at ip through.
func (a *API) reachable(host string, ip netip.Addr) bool {
	if a.PrivateExceptions != nil {
		return a.PrivateExceptions.Permits(host, ip)
	}
	return netguard.Allowed(ip)
}
