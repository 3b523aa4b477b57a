package app

import (
	"context"

	"github.com/onecxi/phone/platform"
)

// watchNetwork follows the device's network with w until Stop, so that
// when it comes back (Wi-Fi rejoined, the laptop woken) the SDK redials its
// events connection at once: incoming calls ring again within a second or
// two, not after the rest of a backoff of up to 30 s.
func (p *Phone) watchNetwork(w platform.NetworkWatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	p.stopWatch = cancel
	p.watchWG.Go(func() {
		if err := w.WatchNetwork(ctx, p.onNetworkChanged); err != nil {
			p.log.Warn("not watching the network: after an outage, incoming calls ring again only when the SDK's backoff retries", "err", err)
		}
	})
}

// onNetworkChanged runs on the watcher's goroutine.
func (p *Phone) onNetworkChanged() {
	p.log.Info("the network changed: reconnecting the events connection now if it is down")
	p.SDK.NetworkChanged()
}

// networkWatcher is what watches the network: the one a test gave, else
// the platform's, if it can (the desktop's can; nil otherwise).
func networkWatcher(cfg Config, plat platform.Platform) platform.NetworkWatcher {
	if cfg.network != nil {
		return cfg.network
	}
	w, _ := plat.(platform.NetworkWatcher)
	return w
}
