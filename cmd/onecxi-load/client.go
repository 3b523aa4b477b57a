package main

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/onecxi/phone/wire"
)

// target is where and as whom the load clients connect.
type target struct {
	base    *url.URL // ws:// or wss://
	account string
	key     string
	tls     *tls.Config
}

func newTarget(server, account, key string, insecure bool) (target, error) {
	u, err := url.Parse(server)
	if err != nil {
		return target{}, fmt.Errorf("server URL %s: %w", wire.Quote(server), wire.QuoteError(err))
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return target{}, fmt.Errorf("server URL %s: scheme must be http, https, ws or wss", wire.Quote(server))
	}
	return target{base: u, account: account, key: key, tls: &tls.Config{InsecureSkipVerify: insecure}}, nil //nolint:gosec // opt-in flag for self-signed test servers
}

func (t target) dial(ctx context.Context, path string, query url.Values) (*websocket.Conn, error) {
	u := *t.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = query.Encode()
	h := http.Header{}
	wire.SetCredentials(h, t.account, t.key)
	d := websocket.Dialer{Subprotocols: []string{wire.Subprotocol}, TLSClientConfig: t.tls, HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: %s: %w", path, resp.Status, err)
		}
		return nil, fmt.Errorf("dial %s: %w", path, err)
	}
	return ws, nil
}

// stream measures one direction of one call: frames carry the sender's
// clock in their first samples, so relay delay is receive time minus that.
type stream struct {
	buf      [wire.AudioHeaderSize + 2*wire.FrameSamples]byte // written synchronously, so reused
	seq      uint32
	expected atomic.Uint32
	started  atomic.Bool
	received atomic.Uint64
	lost     atomic.Uint64
	late     atomic.Uint64
}

// epoch is the zero of the timestamps carried in frames. Both ends of every
// measured stream are in this process, so one monotonic clock serves both.
var epoch = time.Now()

// silentFrame is a 20 ms frame of silence, encoded once; each sent frame is
// a copy with its header and clock patched in, one allocation per frame.
var silentFrame, _ = wire.AppendAudio(nil, wire.AudioFrame{Samples: make([]int16, wire.FrameSamples)})

// frame returns the next encoded frame, carrying the sender's clock in its
// first eight payload bytes (little-endian, as sentAt reads it).
func (s *stream) frame() []byte {
	buf := s.buf[:]
	b := append(buf[:0], silentFrame...)
	if s.seq == 0 {
		b[1] = wire.FlagMarker
	}
	binary.BigEndian.PutUint32(b[2:6], s.seq)
	binary.BigEndian.PutUint32(b[6:10], s.seq*wire.FrameSamples)
	binary.LittleEndian.PutUint64(b[wire.AudioHeaderSize:], uint64(time.Since(epoch)))
	s.seq++
	return b
}

// sentAt extracts the sender's clock from a raw frame (the payload's first
// eight bytes).
func sentAt(raw []byte) time.Duration {
	return time.Duration(binary.LittleEndian.Uint64(raw[wire.AudioHeaderSize:]))
}

// unarrived is how many frames were sent after the last one that arrived:
// a stream that stalls leaves no gap for receive to count, only this
// tail. Call it once sending has stopped and the frames in flight have had
// their time.
func (s *stream) unarrived() uint64 {
	if !s.started.Load() {
		return uint64(s.seq)
	}
	if d := wire.SeqDiff(s.seq, s.expected.Load()); d > 0 {
		return uint64(d)
	}
	return 0
}

// receive accounts one raw frame and returns its relay delay.
func (s *stream) receive(raw []byte) time.Duration {
	seq := binary.BigEndian.Uint32(raw[2:6])
	d := time.Since(epoch) - sentAt(raw)
	s.received.Add(1)
	if !s.started.Swap(true) {
		s.expected.Store(seq + 1)
		return d
	}
	exp := s.expected.Load()
	switch diff := wire.SeqDiff(seq, exp); {
	case diff == 0:
		s.expected.Store(seq + 1)
	case diff > 0:
		s.lost.Add(uint64(diff))
		s.expected.Store(seq + 1)
	default:
		// Arrived after a later frame: counted as lost already; undo that.
		s.late.Add(1)
		s.lost.Add(^uint64(0))
	}
	return d
}
