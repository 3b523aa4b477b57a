package e2e

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// proxy is a TCP relay between phones and the server that can stall (stop
// forwarding, as a congested or briefly dead network does: with TCP, loss
// shows up as delay), cut every connection (network lost), add a fixed
// delay each way, deliver what the server sends in bursts (jitter), or
// drop some of the audio the server sends (loss, as a network that drops
// packets would lose audio: the proxy parses the server's WebSocket frames
// and leaves whole binary messages out, so the stream stays valid).
type proxy struct {
	ln     net.Listener
	target string

	stalled atomic.Bool
	// delay is added to everything forwarded, each way (ns).
	delay atomic.Int64
	// burst, when set (ns), holds what the server sends and releases it
	// only at multiples of this period: audio arrives in bursts.
	burst atomic.Int64
	// dropEvery, when set, drops every dropEvery-th binary WebSocket
	// message the server sends (audio frames).
	dropEvery atomic.Int64
	binaries  atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target}
	go p.accept()
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	return p
}

// url is the proxy's http:// address.
func (p *proxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go p.pipe(c, up, false)
		go p.pipe(up, c, true)
	}
}

// chunk is bytes on their way, with the time they may be written.
type chunk struct {
	b   []byte
	due time.Time
}

// pipe forwards from → to through a delay line: a reader queues what
// arrives (the server's side split into WebSocket frames, so that frames
// can be dropped), a writer writes it when due and not stalled, in order.
func (p *proxy) pipe(from, to net.Conn, fromServer bool) {
	line := make(chan chunk, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.deliver(line, from, to, fromServer)
	}()
	queue := func(b []byte) {
		due := time.Now().Add(time.Duration(p.delay.Load()))
		if period := time.Duration(p.burst.Load()); fromServer && period > 0 {
			due = due.Truncate(period).Add(period)
		}
		line <- chunk{b: b, due: due}
	}
	if fromServer {
		p.readFrames(from, queue)
	} else {
		readRaw(from, queue)
	}
	close(line)
	<-done
}

// deliver writes each chunk when it is due, holding the bytes back while
// the network is stalled. A failed write closes both sides.
func (p *proxy) deliver(line <-chan chunk, from, to net.Conn, fromServer bool) {
	defer to.Close()
	broken := false
	for c := range line {
		if broken {
			continue // drain, so the reader never blocks
		}
		for p.stalled.Load() {
			time.Sleep(2 * time.Millisecond) // polling the stall flag, not waiting for an event
		}
		time.Sleep(time.Until(c.due)) // the injected delay, in real time
		if _, err := to.Write(c.b); err != nil {
			broken = true
			_ = from.Close()
		}
	}
}

// readRaw queues whatever arrives, as it arrives.
func readRaw(from io.Reader, queue func([]byte)) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			queue(bytes.Clone(buf[:n]))
		}
		if err != nil { // EOF, or the connection was cut
			return
		}
	}
}

// readFrames queues the server's side of a connection: an HTTP response
// head, then, after a 101 (a WebSocket), one WebSocket frame at a time,
// leaving out the binary messages dropEvery says to drop. Anything else
// (plain HTTP) is forwarded as it arrives.
func (p *proxy) readFrames(from io.Reader, queue func([]byte)) {
	br := bufio.NewReader(from)
	var head []byte
	for {
		line, err := br.ReadBytes('\n')
		head = append(head, line...)
		if err != nil {
			if len(head) > 0 {
				queue(head)
			}
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
	}
	queue(head)
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101 ")) {
		readRaw(br, queue)
		return
	}
	for {
		f, opcode, err := readWSFrame(br)
		if err != nil {
			if len(f) > 0 {
				queue(f)
			}
			return
		}
		if n := p.dropEvery.Load(); opcode == 2 && n > 0 && p.binaries.Add(1)%n == 0 {
			continue // lost on the way
		}
		queue(f)
	}
}

// readWSFrame reads one whole WebSocket frame (RFC 6455 section 5.2) and
// returns its bytes and opcode; on error, what was read of it.
func readWSFrame(r io.Reader) (frame []byte, opcode byte, err error) {
	hdr := make([]byte, 2, 14)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, 0, err
	}
	opcode = hdr[0] & 0x0f
	n := uint64(hdr[1] & 0x7f)
	ext := 0
	switch n {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	if hdr[1]&0x80 != 0 {
		ext += 4 // masking key
	}
	hdr = hdr[:2+ext]
	if _, err := io.ReadFull(r, hdr[2:]); err != nil {
		return hdr, opcode, err
	}
	switch n {
	case 126:
		n = uint64(binary.BigEndian.Uint16(hdr[2:4]))
	case 127:
		n = binary.BigEndian.Uint64(hdr[2:10])
	}
	frame = make([]byte, len(hdr)+int(n))
	copy(frame, hdr)
	got, err := io.ReadFull(r, frame[len(hdr):])
	return frame[:len(hdr)+got], opcode, err
}

// stall stops forwarding in both directions for d.
func (p *proxy) stall(d time.Duration) {
	p.stalled.Store(true)
	time.Sleep(d) // the stall's length, in real time
	p.stalled.Store(false)
}

// cut closes every connection through the proxy, as a lost network would.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}
