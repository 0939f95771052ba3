package netguard

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestAllowed(t *testing.T) {
	tests := []struct {
		name string
		addr string
		want bool
	}{
		{"IPv4 loopback is refused", "127.0.0.1", false},
		{"the whole IPv4 loopback range is refused", "127.8.9.10", false},
		{"IPv6 loopback is refused", "::1", false},
		{"10/8 private space is refused", "10.1.2.3", false},
		{"172.16/12 private space is refused", "172.16.0.1", false},
		{"the top of 172.16/12 is refused", "172.31.255.254", false},
		{"192.168/16 private space is refused", "192.168.1.1", false},
		{"the cloud metadata address is refused", "169.254.169.254", false},
		{"IPv6 link-local is refused", "fe80::1", false},
		{"IPv6 unique-local is refused", "fd00::1", false},
		{"IPv4-mapped loopback is refused", "::ffff:127.0.0.1", false},
		{"IPv4-mapped private space is refused", "::ffff:10.0.0.1", false},
		{"carrier-grade NAT space is refused", "100.64.0.1", false},
		{"the unspecified IPv4 address is refused", "0.0.0.0", false},
		{"0/8 is refused", "0.1.2.3", false},
		{"the unspecified IPv6 address is refused", "::", false},
		{"IPv4 multicast is refused", "224.0.0.1", false},
		{"IPv6 multicast is refused", "ff02::1", false},
		{"NAT64 space is refused", "64:ff9b::a00:1", false},
		{"benchmarking space is refused", "198.18.0.1", false},
		{"IETF protocol space is refused", "192.0.0.8", false},
		{"a public IPv4 address is allowed", "8.8.8.8", true},
		{"a public IPv6 address is allowed", "2001:4860::8888", true},
		{"an address just outside 172.16/12 is allowed", "172.32.0.1", true},
		{"an address just outside CGNAT space is allowed", "100.128.0.1", true},
		{"an IPv4-mapped public address is allowed", "::ffff:8.8.8.8", true},
		{"the address after 2001::/23 is allowed", "2001:200::1", true},
		{"the address before 2002::/16 is allowed", "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"the address after 2002::/16 is allowed", "2003::1", true},
		{"the address before 240/4 is allowed", "223.255.255.255", true},
		{"the address after 3fff::/20 is allowed", "3fff:1000::1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Allowed(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("Allowed(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	t.Run("the zero address is refused", func(t *testing.T) {
		if Allowed(netip.Addr{}) {
			t.Error("Allowed(zero Addr) = true")
		}
	})
}

func TestControl(t *testing.T) {
	tests := []struct {
		name    string
		address string
		wantErr bool
	}{
		{"a public address may be dialled", "8.8.8.8:443", false},
		{"a public IPv6 address may be dialled", "[2001:4860::8888]:443", false},
		{"loopback may not be dialled", "127.0.0.1:8080", true},
		{"the metadata service may not be dialled", "169.254.169.254:80", true},
		{"an address without a port is refused", "8.8.8.8", true},
		{"a host name is refused (Control sees resolved addresses only)", "example.com:443", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Control("tcp", tt.address, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Control(%s) = %v, want error: %v", tt.address, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrForbiddenAddress) {
				t.Errorf("error %v does not wrap ErrForbiddenAddress", err)
			}
		})
	}
	t.Run("a dialer using Control cannot reach a local listener", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Skip("no loopback listener:", err)
		}
		defer ln.Close()
		d := net.Dialer{Control: Control}
		conn, err := d.Dial("tcp", ln.Addr().String())
		if err == nil {
			conn.Close()
			t.Fatal("dial to loopback succeeded")
		}
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("dial error %v does not wrap ErrForbiddenAddress", err)
		}
	})
}

// TestRefusedRanges checks each IANA-derived range at its first and last
// address, and that the neighbours just outside a range are not refused
// by it (they may be refused by an adjacent range, which the want says).
func TestRefusedRanges(t *testing.T) {
	for _, r := range Refused() {
		first := r.Prefix.Masked().Addr()
		last := lastAddr(r.Prefix)
		for _, a := range []netip.Addr{first, last} {
			if Allowed(a) {
				t.Errorf("%s (%s, %s) is allowed, want refused", a, r.Name, r.Ref)
			}
		}
	}
}

// TestReviewedRanges are the ranges the security review found allowed.
func TestReviewedRanges(t *testing.T) {
	for _, a := range []string{
		"::", "::1", "::0.0.0.1", "::a00:1", "::ffff:ffff", // ::/96
		"2002::", "2002:a00:1::1", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", // 6to4
		"64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", // local NAT64
		"fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", // site-local
		"240.0.0.0", "254.255.255.255", "255.255.255.255",
		"2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
		"3fff::1", "2001:db8::1", "100::1", "5f00::1",
		"4000::1", "8000::1", "e000::1", // outside 2000::/3, not allocated
	} {
		if Allowed(netip.MustParseAddr(a)) {
			t.Errorf("%s is allowed, want refused", a)
		}
	}
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestLastAddr(t *testing.T) {
	tests := []struct{ prefix, want string }{
		{"10.0.0.0/8", "10.255.255.255"},
		{"255.255.255.255/32", "255.255.255.255"},
		{"2002::/16", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"64:ff9b:1::/48", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"},
	}
	for _, tt := range tests {
		if got := lastAddr(netip.MustParsePrefix(tt.prefix)); got.String() != tt.want {
			t.Errorf("lastAddr(%s) = %s, want %s", tt.prefix, got, tt.want)
		}
	}
}

// TestRefusalSaysHowToAllow: the refusal names the range and both ways an
// operator allows a private upstream, so retrying is not the advice.
func TestRefusalSaysHowToAllow(t *testing.T) {
	err := Control("tcp", "10.1.2.3:443", nil)
	for _, want := range []string{"10.1.2.3", "private use, RFC 1918", "PUT /admin/v1/settings", "GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS=true"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %v lacks %q", err, want)
		}
	}
}
