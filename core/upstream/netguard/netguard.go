// Package netguard keeps upstream connections away from addresses a
// connector URL must not reach (SSRF protection): loopback, private,
// link-local (cloud metadata lives there), unspecified and multicast
// ranges. The check runs on the address actually dialled, after DNS
// resolution, so a name that re-resolves to a private address is caught.
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

// blocked ranges beyond what netip's predicates cover.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64 can reach IPv4 private space
	netip.MustParsePrefix("0.0.0.0/8"),
}

// Allowed reports whether addr is a public unicast address.
func Allowed(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() || addr.IsUnspecified() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// Control is a net.Dialer Control function refusing non-public addresses.
func Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrForbiddenAddress, address)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !Allowed(addr) {
		return fmt.Errorf("%w: %s (an admin can allow private upstreams in settings)", ErrForbiddenAddress, host)
	}
	return nil
}
