package admin

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

// Resolver looks up a host's addresses (net.DefaultResolver in
// production).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// reachNotice says, when a connector is created or changed, what the
// gateway would refuse when it dials the URL, so the admin learns it now
// rather than from the first failed call: an address in a refused range
// (unless private upstreams are allowed), or a host that does not
// resolve. "" when the URL looks reachable.
func (a *API) reachNotice(ctx context.Context, c *connector.Connector) string {
	if c.URL == "" || a.AllowPrivateUpstreams {
		return ""
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		r := a.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		addrs, err = r.LookupNetIP(lctx, "ip", host)
		if err != nil {
			return "the gateway cannot resolve " + host + " now (" + err.Error() + "); calls fail until it can"
		}
	}
	for _, ip := range addrs {
		if !a.reachable(host, ip) {
			return host + " is " + ip.String() + ", a private or reserved address the gateway refuses to dial (SSRF protection): calls will fail until an owner allows it (PUT /admin/v1/settings, private_upstreams: its CIDR or host) or the gateway is started with GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS=true"
		}
	}
	return ""
}
