package media

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

var loopback = netip.MustParseAddr("127.0.0.1")

var quietLog = slog.New(slog.DiscardHandler)

// frameSink collects the frames a session delivers.
type frameSink struct {
	mu     sync.Mutex
	frames []wire.AudioFrame
	bad    int
}

func (k *frameSink) SendAudioRaw(raw []byte) bool {
	f, err := wire.DecodeAudio(raw, nil)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		k.bad++
		return false
	}
	k.frames = append(k.frames, f)
	return true
}

func (k *frameSink) get() []wire.AudioFrame {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]wire.AudioFrame(nil), k.frames...)
}

func (k *frameSink) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.frames)
}

// digits collects reported DTMF digits.
type digits struct {
	mu sync.Mutex
	b  []byte
}

func (d *digits) add(c byte) { d.mu.Lock(); d.b = append(d.b, c); d.mu.Unlock() }
func (d *digits) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return string(d.b)
}

// listen opens a session on loopback, closed at the end of the test.
func listen(t testing.TB) *Session {
	t.Helper()
	s, err := Listen(loopback, 0, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// start starts s toward remote with PCMU and telephone-events.
func start(t testing.TB, s *Session, remote netip.AddrPort, mod func(*SessionConfig)) {
	t.Helper()
	cfg := SessionConfig{Remote: remote, Codec: PCMU, EventPT: DefaultEventPT, Log: quietLog}
	if mod != nil {
		mod(&cfg)
	}
	require.NoError(t, s.Start(context.Background(), cfg))
}

// frame encodes samples as a wire frame.
func frame(t testing.TB, seq uint32, marker bool, samples []int16) []byte {
	t.Helper()
	var flags byte
	if marker {
		flags = wire.FlagMarker
	}
	b, err := wire.AppendAudio(wire.AudioBuffer(), wire.AudioFrame{Flags: flags, Seq: seq, Timestamp: seq * 160, Samples: samples})
	require.NoError(t, err)
	return b
}

// udpPeer is a raw UDP socket standing in for a far end.
type udpPeer struct {
	conn *net.UDPConn
	addr netip.AddrPort
}

func newPeer(t testing.TB) *udpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &udpPeer{conn: c, addr: c.LocalAddr().(*net.UDPAddr).AddrPort()}
}

// read returns the next packet, or fails after wait.
func (p *udpPeer) read(t testing.TB, wait time.Duration) rtp.Packet {
	t.Helper()
	buf := make([]byte, 2048)
	require.NoError(t, p.conn.SetReadDeadline(time.Now().Add(wait)))
	n, err := p.conn.Read(buf)
	require.NoError(t, err)
	var pkt rtp.Packet
	require.NoError(t, pkt.Unmarshal(buf[:n]))
	return pkt
}

// quiet reports whether nothing arrives within wait.
func (p *udpPeer) quiet(wait time.Duration) bool {
	buf := make([]byte, 2048)
	_ = p.conn.SetReadDeadline(time.Now().Add(wait))
	_, err := p.conn.Read(buf)
	return err != nil
}

func (p *udpPeer) send(t testing.TB, to netip.AddrPort, b []byte) {
	t.Helper()
	_, err := p.conn.WriteToUDPAddrPort(b, to)
	require.NoError(t, err)
}

// rtpPacket builds a PCMU packet of n samples of value code.
func rtpPacket(t testing.TB, pt uint8, ssrc uint32, seq uint16, ts uint32, marker bool, payload []byte) []byte {
	t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc, Marker: marker}, Payload: payload}
	b, err := p.Marshal()
	require.NoError(t, err)
	return b
}

// configured is a session set up for handlePacket without its goroutines.
func configured(t testing.TB, cfg SessionConfig) *Session {
	t.Helper()
	s := listen(t)
	if cfg.Log == nil {
		cfg.Log = quietLog
	}
	s.configure(cfg)
	return s
}

func seqOf(raw []byte) uint32 { return binary.BigEndian.Uint32(raw[2:6]) }

// waitGoroutines waits until no more goroutines run than base (polled here:
// assert.Eventually would count its own).
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before, %d after\n%s", base, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
