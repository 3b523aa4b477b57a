//go:build !android && !ios

package platform

import "context"

var _ NetworkWatcher = (*desktop)(nil)

// WatchNetwork polls the machine's addresses every two seconds and calls
// changed when the set of usable ones (up, not loopback, not link-local)
// differs from the last: Wi-Fi joined or left, a cable plugged in, a VPN
// up or down, an address renewed after sleep. See NetworkWatcher.
func (d *desktop) WatchNetwork(ctx context.Context, changed func()) error {
	return watchAddrs(ctx, networkPollInterval, systemAddrs, changed, d.cfg.logger)
}
