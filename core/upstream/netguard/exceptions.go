package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Exceptions are the private destinations an owner allowed at run time
// (the admin API's settings): address blocks the refused ranges may
// still be dialled in, and host names that may resolve anywhere. The
// zero value allows nothing more than Control does; it is safe for
// concurrent use and changes apply to the next dial.
type Exceptions struct {
	v atomic.Pointer[exceptionSet]
}

type exceptionSet struct {
	prefixes []netip.Prefix
	hosts    []string // lower-case
}

// ParseExceptions checks CIDRs ("10.1.0.0/16", or one address) and host
// names, naming the first bad one.
func ParseExceptions(cidrs, hosts []string) ([]netip.Prefix, []string, error) {
	var prefixes []netip.Prefix
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			a, aerr := netip.ParseAddr(c)
			if aerr != nil {
				return nil, nil, fmt.Errorf("%q is not a CIDR block or an IP address", c)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		prefixes = append(prefixes, p.Masked())
	}
	var names []string
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		if h == "" || strings.ContainsAny(h, " /:@") {
			return nil, nil, fmt.Errorf("%q is not a host name", h)
		}
		names = append(names, h)
	}
	return prefixes, names, nil
}

// Set replaces the exceptions.
func (e *Exceptions) Set(prefixes []netip.Prefix, hosts []string) {
	e.v.Store(&exceptionSet{prefixes: slices.Clone(prefixes), hosts: slices.Clone(hosts)})
}

func (e *Exceptions) load() *exceptionSet {
	if s := e.v.Load(); s != nil {
		return s
	}
	return &exceptionSet{}
}

// inBlock reports whether ip lies in an allowed block.
func (s *exceptionSet) inBlock(ip netip.Addr) bool {
	for _, p := range s.prefixes {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// hostAllowed reports whether host is an allowed name.
func (s *exceptionSet) hostAllowed(host string) bool {
	return slices.Contains(s.hosts, strings.ToLower(strings.TrimSuffix(host, ".")))
}

// control refuses what Control refuses, but for addresses in an allowed
// block.
func (s *exceptionSet) control(network, address string, c syscall.RawConn) error {
	if host, _, err := net.SplitHostPort(address); err == nil {
		if a, err := netip.ParseAddr(host); err == nil && s.inBlock(a) {
			return nil
		}
	}
	return Control(network, address, c)
}

// DialContext dials address ("host:port") under the guard: an allowed
// host name may reach any address; anything else only public addresses
// or allowed blocks (checked after resolution, on the address dialled).
func (e *Exceptions) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	s := e.load()
	d := net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: s.control}
	if host, _, err := net.SplitHostPort(address); err == nil && s.hostAllowed(host) {
		d.Control = nil
	}
	return d.DialContext(ctx, network, address)
}

// Permits reports whether a dial of host resolving to ip passes the
// guard with these exceptions.
func (e *Exceptions) Permits(host string, ip netip.Addr) bool {
	s := e.load()
	return s.hostAllowed(host) || Allowed(ip) || s.inBlock(ip)
}
