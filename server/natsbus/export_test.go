package natsbus

import "net"

// KillConnection closes b's NATS connection without a goodbye, as a
// crashed node's would end.
func KillConnection(b *Bus) { b.Abandon() }

// EmbeddedListener is the embedded NATS server's client listener (nil:
// none).
func EmbeddedListener(b *Bus) net.Addr {
	if b.embedded == nil {
		return nil
	}
	if a := b.embedded.Addr(); a != nil {
		return a
	}
	return nil
}
