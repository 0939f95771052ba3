// Package netguard keeps upstream connections away from addresses a
// connector URL must not reach (SSRF protection). The refused ranges are
// those of the IANA IPv4 and IPv6 Special-Purpose Address Registries
// (RFC 6890) that are not globally reachable or that tunnel to another
// address space, plus multicast, broadcast and every IPv6 address outside
// global unicast. The check runs on the address actually dialled, after
// DNS resolution, so a name that re-resolves to a private address is
// caught.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// ErrForbiddenAddress is wrapped when a dial targets a refused range.
var ErrForbiddenAddress = errors.New("upstream address is in a private or reserved range")

// Range is one refused address block and where it is defined.
type Range struct {
	Prefix netip.Prefix
	Name   string
	Ref    string
}

// globalUnicast is the only IPv6 block allocated for global unicast
// (RFC 4291 §2.4, IANA IPv6 Address Space); everything outside it is
// loopback, unspecified, IPv4-compatible or -translated, discard,
// unique-local, link- or site-local, multicast, or not allocated.
var globalUnicast = netip.MustParsePrefix("2000::/3")

// Refused returns the refused ranges, IPv4 first. Ranges of IPv6 outside
// 2000::/3 are listed for documentation; Allowed refuses all of that
// space whether listed or not.
func Refused() []Range {
	r := func(p, name, ref string) Range { return Range{netip.MustParsePrefix(p), name, ref} }
	return []Range{
		// IANA IPv4 Special-Purpose Address Registry.
		r("0.0.0.0/8", "this network", "RFC 791 §3.2"),
		r("10.0.0.0/8", "private use", "RFC 1918"),
		r("100.64.0.0/10", "shared address space (carrier-grade NAT)", "RFC 6598"),
		r("127.0.0.0/8", "loopback", "RFC 1122 §3.2.1.3"),
		r("169.254.0.0/16", "link local (cloud metadata services)", "RFC 3927"),
		r("172.16.0.0/12", "private use", "RFC 1918"),
		r("192.0.0.0/24", "IETF protocol assignments", "RFC 6890 §2.1"),
		r("192.0.2.0/24", "documentation (TEST-NET-1)", "RFC 5737"),
		r("192.88.99.0/24", "deprecated 6to4 relay anycast", "RFC 7526"),
		r("192.168.0.0/16", "private use", "RFC 1918"),
		r("198.18.0.0/15", "benchmarking", "RFC 2544"),
		r("198.51.100.0/24", "documentation (TEST-NET-2)", "RFC 5737"),
		r("203.0.113.0/24", "documentation (TEST-NET-3)", "RFC 5737"),
		r("224.0.0.0/4", "multicast", "RFC 5771"),
		r("240.0.0.0/4", "reserved", "RFC 1112 §4"),
		r("255.255.255.255/32", "limited broadcast", "RFC 919 §7"),
		// IANA IPv6 Special-Purpose Address Registry, inside 2000::/3.
		r("2001::/23", "IETF protocol assignments (Teredo, ORCHID, benchmarking)", "RFC 2928, RFC 4380, RFC 5180"),
		r("2001:db8::/32", "documentation", "RFC 3849"),
		r("2002::/16", "6to4 (embeds an IPv4 address)", "RFC 3056"),
		r("3fff::/20", "documentation", "RFC 9637"),
		// IANA IPv6 Special-Purpose Address Registry, outside 2000::/3.
		r("::/128", "unspecified", "RFC 4291"),
		r("::1/128", "loopback", "RFC 4291"),
		r("::/96", "IPv4-compatible (deprecated)", "RFC 4291 §2.5.5.1"),
		r("64:ff9b::/96", "IPv4/IPv6 translation (reaches IPv4 space)", "RFC 6052"),
		r("64:ff9b:1::/48", "local-use IPv4/IPv6 translation", "RFC 8215"),
		r("100::/64", "discard only", "RFC 6666"),
		r("5f00::/16", "segment routing (SRv6) SIDs", "RFC 9602"),
		r("fc00::/7", "unique local", "RFC 4193"),
		r("fe80::/10", "link-local unicast", "RFC 4291"),
		r("fec0::/10", "site-local (deprecated)", "RFC 3879"),
		r("ff00::/8", "multicast", "RFC 4291"),
	}
}

// refused is Refused(), built once; it is never modified.
var refused = Refused()

// Allowed reports whether addr is a public unicast address.
func Allowed(addr netip.Addr) bool {
	_, ok := why(addr)
	return ok
}

// why names the range refusing addr, or reports it allowed.
func why(addr netip.Addr) (string, bool) {
	if !addr.IsValid() {
		return "invalid address", false
	}
	addr = addr.Unmap()
	for _, r := range refused {
		if r.Prefix.Contains(addr) {
			return r.Name + ", " + r.Ref, false
		}
	}
	if addr.Is6() && !globalUnicast.Contains(addr) {
		return "outside IPv6 global unicast 2000::/3, RFC 4291", false
	}
	return "", true
}

// Control is a net.Dialer Control function refusing non-public addresses.
func Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrForbiddenAddress, address)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s is not an IP address", ErrForbiddenAddress, host)
	}
	if reason, ok := why(addr); !ok {
		return fmt.Errorf("%w: %s (%s; an owner allows this address with PUT /admin/v1/settings private_upstreams, or every private address with GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS=true at start)", ErrForbiddenAddress, host, reason)
	}
	return nil
}
