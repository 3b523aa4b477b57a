package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/wire"
)

// waitMsg bounds every wait for a message from the server.
const waitMsg = 5 * time.Second

// endpoint is a server as a client knows it: a base URL and credentials.
type endpoint struct {
	base, account, key string
}

// refusal is a /v1/call upgrade the server answered with an HTTP error.
type refusal struct {
	status int
	body   wire.HTTPError
}

func (r *refusal) Error() string {
	return fmt.Sprintf("upgrade refused: %d %s %q", r.status, r.body.Code, r.body.Message)
}

// received is a control message with when it arrived.
type received struct {
	wire.Message
	at time.Time
}

// call is one /v1/call WebSocket, read by a wire.Conn. It keeps every
// control message but pongs for expect, and every audio frame's samples.
type call struct {
	ws   *websocket.Conn
	conn *wire.Conn
	msgs chan received
	done chan struct{} // Run has returned

	closeCode atomic.Int32 // the server's close frame, once one came
	closedAt  atomic.Int64 // Unix ns
	overflow  atomic.Bool  // msgs was full: a message was lost

	mu         sync.Mutex
	frames     int
	samples    []int16
	firstAudio time.Time
	lastAudio  time.Time
	first      chan struct{} // closed on the first audio frame
}

// dial opens a /v1/call socket, naming the resume feature if resume. An
// upgrade the server refuses is a *refusal.
func (e endpoint) dial(ctx context.Context, resume bool) (*call, error) {
	h := http.Header{}
	wire.SetCredentials(h, e.account, e.key)
	if resume {
		h.Set(wire.HeaderFeatures, wire.FeatureResume)
	}
	d := websocket.Dialer{
		Subprotocols:     []string{wire.Subprotocol},
		HandshakeTimeout: waitMsg,
		NetDialContext:   wire.DialContext,
	}
	url := "ws" + strings.TrimPrefix(e.base, "http") + wire.PathCall
	ws, resp, err := d.DialContext(ctx, url, h)
	if err != nil {
		if resp != nil && errors.Is(err, websocket.ErrBadHandshake) {
			r := &refusal{status: resp.StatusCode}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			_ = jsonDecode(body, &r.body)
			return nil, r
		}
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	c := &call{ws: ws, msgs: make(chan received, 64), done: make(chan struct{}), first: make(chan struct{})}
	ws.SetCloseHandler(func(code int, _ string) error {
		c.closeCode.Store(int32(code))
		c.closedAt.Store(time.Now().UnixNano())
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
		return nil
	})
	c.conn = wire.NewConn(ws, nil)
	go func() {
		defer close(c.done)
		_ = c.conn.Run(context.Background(), wire.Handlers{OnMessage: c.onMessage, OnAudio: c.onAudio})
	}()
	return c, nil
}

func (c *call) onMessage(m wire.Message) {
	if m.Type == wire.TypePong {
		return
	}
	select {
	case c.msgs <- received{Message: m, at: time.Now()}:
	default:
		c.overflow.Store(true)
	}
}

func (c *call) onAudio(raw []byte) {
	now := time.Now()
	f, err := wire.DecodeAudio(raw, nil)
	wire.ReleaseAudioBuffer(raw)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frames == 0 {
		c.firstAudio = now
		close(c.first)
	}
	c.lastAudio = now
	c.frames++
	c.samples = append(c.samples, f.Samples...)
}

// send sends a control message.
func (c *call) send(m wire.Message) error { return c.conn.Send(m) }

// expect returns the next control message, which must be of type typ, and
// arrive within waitMsg.
func (c *call) expect(typ wire.Type) (received, error) { return c.expectWithin(typ, waitMsg) }

// expectWithin is expect with its own bound.
func (c *call) expectWithin(typ wire.Type, within time.Duration) (received, error) {
	t := time.NewTimer(within)
	defer t.Stop()
	select {
	case m := <-c.msgs:
		if m.Type != typ {
			return m, fmt.Errorf("expected %s, got %s", typ, describe(m.Message))
		}
		return m, nil
	case <-c.done:
		select {
		case m := <-c.msgs:
			if m.Type == typ {
				return m, nil
			}
			return m, fmt.Errorf("expected %s, got %s and the connection closed (%s)", typ, describe(m.Message), c.closeStatus())
		default:
		}
		return received{}, fmt.Errorf("the connection closed (%s) before %s arrived", c.closeStatus(), typ)
	case <-t.C:
		return received{}, fmt.Errorf("no %s within %v", typ, within)
	}
}

// describe renders a message for an error or the timeline: its JSON, a
// resume token replaced by its length (it is a secret).
func describe(m wire.Message) string {
	if m.Token != "" {
		m.Token = fmt.Sprintf("<%d characters>", len(m.Token))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return string(m.Type)
	}
	return strings.TrimSpace(b.String())
}

// waitClosed waits for the socket to close and returns the server's close
// code (0: none, the socket just ended) and when it closed.
func (c *call) waitClosed() (int, time.Time, error) {
	select {
	case <-c.done:
	case <-time.After(waitMsg):
		return 0, time.Time{}, fmt.Errorf("the call's socket still open %v later", waitMsg)
	}
	at := time.Now()
	if ns := c.closedAt.Load(); ns != 0 {
		at = time.Unix(0, ns)
	}
	return int(c.closeCode.Load()), at, nil
}

func (c *call) closeStatus() string {
	if code := c.closeCode.Load(); code != 0 {
		return fmt.Sprintf("close %d", code)
	}
	return "no close frame"
}

// drop closes the TCP connection at once, without a close frame: a lost
// connection, as a network change would make it. It returns when.
func (c *call) drop() time.Time {
	at := time.Now()
	_ = c.ws.UnderlyingConn().Close()
	return at
}

// close ends the socket gracefully (a close frame), for cleaning up.
func (c *call) close() {
	c.conn.Close(wire.CloseGoingAway, "probe done")
	select {
	case <-c.done:
	case <-time.After(waitMsg):
		_ = c.ws.UnderlyingConn().Close()
	}
}

// firstFrame waits up to waitMsg for the first audio frame and returns
// when it arrived.
func (c *call) firstFrame() (time.Time, error) {
	select {
	case <-c.first:
	case <-time.After(waitMsg):
		return time.Time{}, fmt.Errorf("no audio within %v", waitMsg)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.firstAudio, nil
}

// lastFrame returns when the latest audio frame arrived.
func (c *call) lastFrame() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastAudio
}

// mark is a point in what a call has received.
type mark struct {
	frames, samples int
	at              time.Time
}

func (c *call) mark() mark {
	c.mu.Lock()
	defer c.mu.Unlock()
	return mark{c.frames, len(c.samples), time.Now()}
}

// since returns the frames and samples received after m.
func (c *call) since(m mark) (frames int, samples []int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames - m.frames, append([]int16(nil), c.samples[m.samples:]...)
}

// shareWindow is how much of the latest audio hears checks: 200 ms.
const shareWindow = wire.SampleRate / 5

// hears waits up to waitMsg until the latest 200 ms received are mostly
// freq (tone share above minShare) and returns that share and when.
func (c *call) hears(freq float64) (float64, time.Time, error) {
	deadline := time.Now().Add(waitMsg)
	var share float64
	for {
		c.mu.Lock()
		if n := len(c.samples); n >= shareWindow {
			share = dsp.ToneShare(c.samples[n-shareWindow:], freq)
		}
		c.mu.Unlock()
		if share >= minShare {
			return share, time.Now(), nil
		}
		if time.Now().After(deadline) {
			return share, time.Time{}, fmt.Errorf("the echo is not %v Hz within %v (tone share of the last 200 ms %.2f, want ≥ %.2f)",
				freq, waitMsg, share, minShare)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// minShare is the tone share that counts as "hearing the tone".
const minShare = 0.9

// toneFreq is the tone every call sends.
const toneFreq = 440

// streamer sends a tone, 20 ms frames at real-time pace, to whichever call
// is current (none while the probe has dropped one and not yet resumed it:
// those frames are lost, as a phone's would be). With ping it also sends
// ping{ts} once a second, as a resuming client must while its call is
// answered.
type streamer struct {
	cur     atomic.Pointer[call]
	skipped atomic.Int64 // frames not sent: no call was current
	ping    bool
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

func startStreamer(c *call, ping bool) *streamer {
	s := &streamer{ping: ping, quit: make(chan struct{}), stopped: make(chan struct{})}
	s.cur.Store(c)
	go s.run()
	return s
}

func (s *streamer) run() {
	defer close(s.stopped)
	tone := &dsp.Tone{Freq: toneFreq, Amplitude: 0.5}
	buf := make([]int16, wire.FrameSamples)
	tick := time.NewTicker(wire.FrameMillis * time.Millisecond)
	defer tick.Stop()
	flags := byte(wire.FlagMarker)
	for seq := uint32(1); ; seq++ {
		select {
		case <-s.quit:
			return
		case <-tick.C:
		}
		tone.Fill(buf)
		c := s.cur.Load()
		if c == nil {
			s.skipped.Add(1)
			continue
		}
		c.conn.SendAudio(wire.AudioFrame{Flags: flags, Seq: seq, Timestamp: seq * wire.FrameSamples, Samples: buf})
		flags = 0
		if s.ping && seq%(1000/wire.FrameMillis) == 0 {
			_ = c.send(wire.Message{Type: wire.TypePing, TS: time.Now().UnixMilli()})
		}
	}
}

// use makes c the call frames go to (nil: none).
func (s *streamer) use(c *call) { s.cur.Store(c) }

func (s *streamer) stop() {
	s.once.Do(func() { close(s.quit) })
	<-s.stopped
}

func jsonDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	return dec.Decode(v)
}

// toneShare is the share of samples' power at the tone's frequency.
func toneShare(samples []int16) float64 { return dsp.ToneShare(samples, toneFreq) }
