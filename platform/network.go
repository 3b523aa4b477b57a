package platform

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"
)

// NetworkWatcher is an optional extension of Platform: a platform that
// implements it tells the app when the device's network changes, so the
// app can tell the SDK (callcore's SDK.NetworkChanged) and a lost events
// connection redials at once instead of waiting out its backoff. Find it
// with a type assertion; the desktop platform and Headless implement it,
// the Android and iOS twins do not yet (their OS reports changes through
// ConnectivityManager and NWPathMonitor, glue that is not written).
type NetworkWatcher interface {
	// WatchNetwork calls changed each time the device's network changes
	// (an address gained or lost, from none to some included), on its own
	// goroutine, until ctx ends; then it returns nil. It blocks, so run it
	// on a goroutine. It returns an error at once if it cannot watch at
	// all. changed must not block for long: it delays the next check.
	WatchNetwork(ctx context.Context, changed func()) error
}

// networkPollInterval is how often the desktop looks at its addresses. No
// portable Go API pushes address changes (each OS has its own: netlink,
// SCNetworkReachability, NotifyAddrChange), and listing them is cheap; 2 s
// is well within the events connection's first reconnect waits.
var networkPollInterval = 2 * time.Second

// ifaceAddrs is what usableAddrs needs of a network interface.
type ifaceAddrs struct {
	flags net.Flags
	addrs []net.Addr
}

// usableAddrs returns the addresses a server could be reached from: those
// of interfaces that are up, not loopback, and not link-local (fe80::/10,
// 169.254/16, which an interface has as soon as its link is up, network or
// not). Sorted, each once, so two lists compare as sets.
func usableAddrs(ifs []ifaceAddrs) []string {
	var out []string
	for _, i := range ifs {
		if i.flags&net.FlagUp == 0 || i.flags&net.FlagLoopback != 0 {
			continue
		}
		for _, a := range i.addrs {
			var ip net.IP
			switch v := a.(type) {
			case *net.IPNet:
				ip = v.IP
			case *net.IPAddr:
				ip = v.IP
			default:
				continue
			}
			if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
				continue
			}
			out = append(out, ip.String())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// addrSetsDiffer reports whether two address lists hold different sets of
// addresses (order and repeats do not matter).
func addrSetsDiffer(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return !slices.Equal(slices.Compact(a), slices.Compact(b))
}

// systemAddrs lists this machine's usable addresses. An interface whose
// addresses cannot be read counts as having none.
func systemAddrs() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	all := make([]ifaceAddrs, 0, len(ifs))
	for _, i := range ifs {
		addrs, err := i.Addrs()
		if err != nil {
			continue
		}
		all = append(all, ifaceAddrs{flags: i.Flags, addrs: addrs})
	}
	return usableAddrs(all), nil
}

// watchAddrs is WatchNetwork by polling: it lists the addresses every
// interval and calls changed when the set differs from the last one. A
// listing that fails later on is skipped (logged), not taken for "no
// network".
func watchAddrs(ctx context.Context, every time.Duration, list func() ([]string, error), changed func(), log *slog.Logger) error {
	last, err := list()
	if err != nil {
		return fmt.Errorf("platform: listing the network addresses: %w", err)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now, err := list()
		if err != nil {
			log.Debug("platform: listing the network addresses", "err", err)
			continue
		}
		if !addrSetsDiffer(last, now) {
			continue
		}
		log.Info("platform: the network changed", "addresses_before", len(last), "addresses_now", len(now))
		last = now
		changed()
	}
}
