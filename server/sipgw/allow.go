package sipgw

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/onecxi/phone/wire"
)

// allowList says which source addresses may send us requests: the
// gateway's (every trunk's) for new INVITEs, CANCELs and OPTIONS, a trunk's
// for the requests within its calls (dialog.go).
type allowList []netip.Prefix

// allows reports whether ip is on the list.
func (a allowList) allows(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range a {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// buildAllowList collects each trunk's Allow entries, or for a trunk without
// any the addresses its host resolves to now. A host that does not resolve
// is an error: otherwise that trunk's calls would all be refused with 403 and
// nobody would know why.
func buildAllowList(ctx context.Context, r *net.Resolver, trunks []Trunk) (allowList, error) {
	var a allowList
	for _, t := range trunks {
		ta, err := trunkAllowList(ctx, r, t)
		if err != nil {
			return nil, err
		}
		a = append(a, ta...)
	}
	return a, nil
}

// trunkAllowList is one trunk's part of the allow-list.
func trunkAllowList(ctx context.Context, r *net.Resolver, t Trunk) (allowList, error) {
	if len(t.Allow) > 0 {
		return allowList(t.Allow), nil
	}
	if ip, err := netip.ParseAddr(t.Host); err == nil {
		ip = ip.Unmap()
		return allowList{netip.PrefixFrom(ip, ip.BitLen())}, nil
	}
	ips, err := r.LookupNetIP(ctx, "ip", t.Host)
	if err != nil {
		return nil, fmt.Errorf("trunk %s: resolve %s for the inbound allow-list: %w", wire.Quote(t.Name), wire.Quote(t.Host), wire.QuoteError(err))
	}
	a := make(allowList, 0, len(ips))
	for _, ip := range ips {
		ip = ip.Unmap()
		a = append(a, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return a, nil
}

// sourceIP returns the IP of a message's source "host:port".
func sourceIP(hostport string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}
