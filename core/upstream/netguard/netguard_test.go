package netguard

import (
	"errors"
	"net"
	"net/netip"
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
