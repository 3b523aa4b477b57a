package sip_test

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// tcpProxy relays a phone's connections to the server so that a test can
// reset them all at once, as a lost network (a Wi-Fi to mobile handover)
// does, and keep the network down for a while. It is a minimal copy of
// e2e's proxy, which this package cannot import (e2e has test files only):
// no stalls, delays or loss.
type tcpProxy struct {
	ln     net.Listener
	target string
	// down resets every new connection at once: the network is gone.
	down atomic.Bool

	mu    sync.Mutex
	conns []net.Conn
}

// startProxy relays 127.0.0.1:<some port> to target (host:port).
func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &tcpProxy{ln: ln, target: target}
	go p.accept()
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	return p
}

// url is the proxy's http:// address, for the SDK.
func (p *tcpProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			reset(c)
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go pipe(c, up)
		go pipe(up, c)
	}
}

// pipe copies from → to until either side fails, then closes both.
func pipe(from, to net.Conn) {
	_, _ = io.Copy(to, from)
	_ = from.Close()
	_ = to.Close()
}

// cut resets every connection through the proxy (RST, not FIN: linger 0),
// both towards the phone and towards the server.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		reset(c)
	}
	p.conns = nil
}

// reset closes c with a TCP RST rather than a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
