package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestExceptions(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	dial := func(e *Exceptions, host string) error {
		c, err := e.DialContext(context.Background(), "tcp", net.JoinHostPort(host, port))
		if err == nil {
			c.Close()
		}
		return err
	}
	var e Exceptions
	if err := dial(&e, "127.0.0.1"); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("no exceptions: loopback dial %v", err)
	}
	e.Set([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, nil)
	if err := dial(&e, "127.0.0.1"); err != nil {
		t.Errorf("an allowed block: %v", err)
	}
	e.Set([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, nil)
	if err := dial(&e, "127.0.0.1"); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("another block allowed: loopback dial %v", err)
	}
	e.Set(nil, []string{"localhost"})
	if err := dial(&e, "LocalHost"); err != nil {
		t.Errorf("an allowed host (case-folded): %v", err)
	}
	if err := dial(&e, "127.0.0.1"); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("a host exception let the bare address through: %v", err)
	}
}

func TestParseExceptions(t *testing.T) {
	p, h, err := ParseExceptions([]string{"10.1.0.0/16", "192.168.1.7", "fd00::/8"}, []string{"Wiki.Internal."})
	if err != nil || len(p) != 3 || p[1] != netip.MustParsePrefix("192.168.1.7/32") || h[0] != "wiki.internal" {
		t.Errorf("%v %v %v", p, h, err)
	}
	for _, bad := range [][2][]string{{{"10.0.0.0/33"}, nil}, {{"ten"}, nil}, {nil, {"http://x"}}, {nil, {""}}} {
		if _, _, err := ParseExceptions(bad[0], bad[1]); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
