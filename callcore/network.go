package callcore

// NetworkChanged tells the SDK that the device's network has changed: an
// interface came up or went down, an address was gained or lost (Wi-Fi
// joined, a cable plugged in, a VPN up, the laptop woken from sleep). It is
// an extension beyond the guide; the app or its platform layer calls it
// whenever the OS reports such a change (on desktop, platform.NetworkWatcher).
//
// If the events connection of ListenForIncomingCalls was lost and is
// waiting out its reconnect backoff, it redials at once and its backoff
// starts over from the shortest wait: without this, a phone whose network
// was down for a while could stay deaf to incoming calls for up to 30 s
// after the network is back. If the events connection is up, nothing
// happens: a connection the change has killed is found dead by its
// keep-alive (wire.Conn's ping deadline) and reconnects as after any loss,
// and a NetworkChanged during that backoff hurries it. A call restoring
// its lost connection (ReconnectCallback) retries at once too. Cheap and safe
// to call often, from any goroutine, at any time (a no-op before Initialize,
// when not listening, and after Dispose).
func (s *SDK) NetworkChanged() {
	s.log.Debug("callcore: the app reports a network change")
	s.networkBack()
}

// networkBack is what a sign that the network works again does: the
// events connection, if waiting to reconnect, tries now. NetworkChanged
// calls it; so does a call whose connection has just been restored, since
// a network good enough to resume a call is good enough to listen on. It
// takes s.mu: a caller that holds it calls networkBackLocked.
func (s *SDK) networkBack() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.networkBackLocked()
}

// networkBackLocked is networkBack for a caller holding s.mu. It never
// blocks.
func (s *SDK) networkBackLocked() {
	if l := s.listener; l != nil && l.wakeUp() {
		s.log.Debug("callcore: waking the events connection's reconnect")
	}
	if c := s.call; c != nil && c.reconnecting {
		c.kickReconnect() // a call restoring its connection retries now too
	}
}

// startBackoff marks the listener as waiting to reconnect. A wake left
// over from an earlier backoff (sent just as it ended) is dropped first, so
// it cannot cut this one short.
func (l *listener) startBackoff() {
	select {
	case <-l.wake:
	default:
	}
	l.backingOff.Store(true)
}

// wakeUp cuts the listener's reconnect backoff short, if it is in one, and
// reports whether it was. A wake while connected is dropped: there is
// nothing to hurry.
func (l *listener) wakeUp() bool {
	if !l.backingOff.Load() {
		return false
	}
	select {
	case l.wake <- struct{}{}:
	default: // a wake is already pending
	}
	return true
}
