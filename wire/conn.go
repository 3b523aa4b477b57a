package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Queue depths. Control messages are few and must not be lost: a peer that lets
// ControlQueue fill is not reading and is disconnected. Audio is many and
// perishable: a full AudioQueue drops the new frame, so a slow peer loses
// frames, not the call.
const (
	ControlQueue = 64
	AudioQueue   = 16
)

// deadlineRefresh is how often reading moves the read deadline on.
const deadlineRefresh = time.Second

// ErrClosed is returned by sends on a closed Conn.
var ErrClosed = errors.New("wire: connection closed")

// Conn runs one WebSocket with exactly one reader (the goroutine calling Run)
// and one writer goroutine, ping/pong keep-alive with named deadlines and a
// read limit. It is shared by the SDK and the server.
//
// Audio has a fast path: when the socket was wrapped for non-blocking writes
// (WrapConn, WrapListener, DialContext) and nothing is queued or pending,
// SendAudioRaw writes the frame itself, on the caller's goroutine. A relayed
// frame then costs one goroutine less, which is most of what the server
// spends per frame after the syscalls. The write never waits: what the socket
// does not take at once is finished by the writer goroutine, and while it is,
// frames queue (and drop) as before.
type Conn struct {
	ws      *websocket.Conn
	nb      *nbConn // nil: no fast path
	wmu     sync.Mutex
	wdl     time.Time     // when the write deadline was last moved (under wmu)
	flush   chan struct{} // the nbConn has bytes pending
	queued  atomic.Int32  // audio frames queued for the writer or being written by it
	log     *slog.Logger
	control chan []byte
	audio   chan []byte
	// closing is closed by Close: the writer then flushes queued control
	// messages, writes the close frame and closes the socket, which closes
	// done. Sends fail from closing on.
	closing chan struct{}
	done    chan struct{}

	closeOnce   sync.Once
	finishOnce  sync.Once
	closeCode   int
	closeReason string
	failure     error       // why abort closed it; set before closing is closed
	writing     atomic.Bool // the writer goroutine is running

	dropped  atomic.Uint64
	sentAud  atomic.Uint64
	recvAud  atomic.Uint64
	badAud   atomic.Uint64
	lastRead atomic.Int64
}

// Handlers receive what a Conn reads, on its reader goroutine, in order. They
// must not block: OnAudio in particular is on the per-frame path. raw is a
// validated binary frame (header checked) owned by the callee, which may keep
// it or hand it to exactly one SendAudioRaw.
type Handlers struct {
	OnMessage func(Message)
	OnAudio   func(raw []byte)
	// OnBadMessage is told of a text message that failed to decode. The
	// connection stays open (the peer gets a chance to correct itself) unless
	// the handler closes it.
	OnBadMessage func(error)
	// OnBadAudio, if set, is told of a binary message that is not a valid
	// audio frame (PROTOCOL.md: malformed frames are dropped, not
	// answered). The frame is already dropped and counted in
	// Stats.AudioMalformed; the handler may count it too, and must not
	// answer it.
	OnBadAudio func(error)
	// OnPing, if set, is told of each WebSocket ping the peer sends, before
	// it is answered (the server counts them against a control message
	// rate).
	OnPing func()
}

// NewConn wraps an upgraded or dialled WebSocket. Call Run to start it.
func NewConn(ws *websocket.Conn, log *slog.Logger) *Conn {
	if log == nil {
		log = slog.Default()
	}
	c := &Conn{
		ws:      ws,
		log:     log,
		control: make(chan []byte, ControlQueue),
		audio:   make(chan []byte, AudioQueue),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		flush:   make(chan struct{}, 1),
		nb:      findNB(ws.NetConn()),
	}
	c.lastRead.Store(time.Now().UnixNano())
	return c
}

// Run reads until the connection fails, the peer closes, ctx ends or Close is
// called, dispatching to h. It starts the writer goroutine and waits for it.
// The error says why reading stopped; a normal close returns nil.
func (c *Conn) Run(ctx context.Context, h Handlers) error {
	var wg sync.WaitGroup
	wg.Add(1)
	if c.nb != nil {
		c.nb.start(func() {
			select {
			case c.flush <- struct{}{}:
			default:
			}
		})
	}
	c.writing.Store(true) // after start: the fast path relies on it
	go func() { defer wg.Done(); c.writeLoop() }()
	stop := context.AfterFunc(ctx, func() { c.Close(CloseGoingAway, "context done") })
	defer stop()
	err := c.readLoop(h)
	c.Close(CloseNormal, "")
	wg.Wait()
	return err
}

func (c *Conn) readLoop(h Handlers) error {
	c.ws.SetReadLimit(MaxMessage)
	_ = c.ws.SetReadDeadline(time.Now().Add(PongWait))
	c.ws.SetPongHandler(func(string) error {
		c.touch()
		return c.ws.SetReadDeadline(time.Now().Add(PongWait))
	})
	if h.OnPing != nil {
		pong := c.ws.PingHandler() // gorilla's: answers with a pong
		c.ws.SetPingHandler(func(data string) error {
			h.OnPing()
			select {
			case <-c.closing:
				return nil // closing (OnPing may have just decided so): no more answers
			default:
			}
			return pong(data)
		})
	}
	deadlineSet := time.Now()
	for {
		kind, b, err := c.readMessage()
		if err != nil {
			if websocket.IsCloseError(err, CloseNormal, CloseGoingAway) {
				return nil
			}
			select {
			case <-c.closing:
				return c.failure // we closed it: on purpose (nil), or because writing failed
			default:
			}
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure {
				// 1006 is never sent: the library's name for a connection
				// that ended without a close frame.
				return fmt.Errorf("wire: connection lost without a close frame (%s): %w", Quote(ce.Text), ErrClosed)
			}
			if errors.As(err, &ce) {
				return fmt.Errorf("wire: peer closed with %d %s: %w", ce.Code, Quote(ce.Text), ErrClosed)
			}
			if errors.Is(err, websocket.ErrReadLimit) {
				c.abort(CloseTooLarge, "message too large")
			}
			return fmt.Errorf("wire: read: %w", err)
		}
		// Moving the deadline costs a timer update; at 50 frames a second
		// doing it once a second is as safe against a silent peer.
		now := time.Now()
		c.lastRead.Store(now.UnixNano())
		if now.Sub(deadlineSet) >= deadlineRefresh {
			_ = c.ws.SetReadDeadline(now.Add(PongWait))
			deadlineSet = now
		}
		switch kind {
		case websocket.TextMessage:
			m, err := Decode(b)
			if err != nil {
				if h.OnBadMessage != nil {
					h.OnBadMessage(err)
				}
				continue
			}
			if h.OnMessage != nil {
				h.OnMessage(m)
			}
		case websocket.BinaryMessage:
			if b == nil {
				c.badAudio(h, fmt.Errorf("%w: binary message over the %d-byte audio limit", ErrMalformed, MaxAudioMessage))
				continue
			}
			if err := CheckAudio(b); err != nil {
				recycle(b)
				c.badAudio(h, err)
				continue
			}
			c.recvAud.Add(1)
			if h.OnAudio != nil {
				h.OnAudio(b)
			}
		}
	}
}

func (c *Conn) touch() { c.lastRead.Store(time.Now().UnixNano()) }

// LastRead is when anything (a message, a frame, a pong) last arrived.
func (c *Conn) LastRead() time.Time { return time.Unix(0, c.lastRead.Load()) }

// badAudio drops a malformed binary message: counted, reported to
// OnBadAudio, never answered.
func (c *Conn) badAudio(h Handlers, err error) {
	c.badAud.Add(1)
	if h.OnBadAudio != nil {
		h.OnBadAudio(err)
	}
}

func (c *Conn) writeLoop() {
	defer c.writing.Store(false)
	ping := time.NewTicker(PingPeriod)
	defer ping.Stop()
	write := func(kind int, b []byte) bool {
		c.wmu.Lock()
		err := c.writeLocked(kind, b)
		c.wmu.Unlock()
		if err == nil {
			err = c.flushPending()
		}
		if err != nil {
			c.log.Debug("websocket write failed", "err", err)
			c.abort(CloseGoingAway, "write failed")
			return false
		}
		return true
	}
	// flushControl writes every queued control message without waiting.
	flushControl := func() bool {
		for {
			select {
			case b := <-c.control:
				if !write(websocket.TextMessage, b) {
					return false
				}
			default:
				return true
			}
		}
	}
	for {
		// Control first: a hang-up must not wait behind queued audio.
		if !flushControl() {
			return
		}
		select {
		case <-c.closing:
			// Flush what was said before Close (a last end, error or
			// declined), then say goodbye. Audio is dropped.
			if flushControl() {
				c.finish()
			}
			return
		case b := <-c.control:
			if !write(websocket.TextMessage, b) {
				return
			}
		case b := <-c.audio:
			ok := write(websocket.BinaryMessage, b)
			c.queued.Add(-1)
			if !ok {
				return
			}
			recycle(b)
			c.sentAud.Add(1)
		case <-c.flush:
			if err := c.flushPending(); err != nil {
				c.log.Debug("websocket write failed", "err", err)
				c.abort(CloseGoingAway, "write failed")
				return
			}
		case <-ping.C:
			err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(WriteWait))
			if err == nil {
				err = c.flushPending()
			}
			if err != nil {
				c.abort(CloseGoingAway, "ping failed")
				return
			}
		}
	}
}

// writeLocked writes one message; the caller holds wmu. Like the read
// deadline, the write deadline moves at most once per deadlineRefresh: every
// write still gets WriteWait-deadlineRefresh.
func (c *Conn) writeLocked(kind int, b []byte) error {
	if now := time.Now(); now.Sub(c.wdl) >= deadlineRefresh {
		_ = c.ws.SetWriteDeadline(now.Add(WriteWait))
		c.wdl = now
	}
	return c.ws.WriteMessage(kind, b)
}

// flushPending finishes what a non-blocking write left, blocking until it is
// written or the write deadline passes.
func (c *Conn) flushPending() error {
	if c.nb == nil || !c.nb.Busy() {
		return nil
	}
	return c.nb.Flush()
}

// Send queues a control message. It fails with ErrClosed after Close, and
// closes the connection if the peer has let the control queue fill.
func (c *Conn) Send(m Message) error {
	b, err := Encode(m)
	if err != nil {
		return err
	}
	select {
	case <-c.closing:
		return ErrClosed
	default:
	}
	select {
	case c.control <- b:
		return nil
	default:
		// The peer has stopped reading; it would never see a flush.
		go c.abort(ClosePolicy, "peer not reading")
		return fmt.Errorf("wire: control queue full: %w", ErrClosed)
	}
}

// SendAudioRaw queues an encoded audio frame, dropping it if the queue is full
// or the connection closed. It reports whether the frame was queued. It takes
// b: the caller must not use it afterwards (it may be recycled, see
// AudioBuffer).
func (c *Conn) SendAudioRaw(b []byte) bool {
	select {
	case <-c.closing:
		return false
	default:
	}
	if c.nb != nil && c.writing.Load() && c.queued.Load() == 0 && !c.nb.Busy() && c.wmu.TryLock() {
		// The fast path (see Conn): nothing is ahead of this frame, and the
		// write cannot block.
		err := c.writeLocked(websocket.BinaryMessage, b)
		c.wmu.Unlock()
		recycle(b)
		if err != nil {
			c.dropped.Add(1)
			go c.abort(CloseGoingAway, "write failed")
			return false
		}
		c.sentAud.Add(1)
		return true
	}
	c.queued.Add(1)
	select {
	case c.audio <- b:
		return true
	default:
		c.queued.Add(-1)
		c.dropped.Add(1)
		recycle(b)
		return false
	}
}

// SendAudio encodes and queues f (see SendAudioRaw).
func (c *Conn) SendAudio(f AudioFrame) bool {
	b, err := AppendAudio(AudioBuffer(), f)
	if err != nil {
		return false
	}
	return c.SendAudioRaw(b)
}

// Close ends the connection gracefully with code and reason: control
// messages queued before it are still written, then the close frame. It
// never blocks; Done is closed when the socket is. Safe from any goroutine,
// any number of times (the first code wins).
func (c *Conn) Close(code int, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeReason = code, reason
		close(c.closing)
	})
	if !c.writing.Load() {
		// No writer to flush (before Run, or after it): close here.
		c.finish()
	}
}

// Drop closes the socket at once, without the closing handshake: for a
// connection found dead (nothing has arrived for too long), whose peer would
// never answer a close frame and whose writes may block. Run returns nil or
// the read error the close caused. Safe from any goroutine.
func (c *Conn) Drop() {
	// The socket first: the writer, seeing closing, must find nothing to
	// write a close frame on. One that got through would read, once the
	// network is back, as the peer leaving on purpose.
	_ = c.ws.UnderlyingConn().Close() // unblocks the reader and any write
	c.closeOnce.Do(func() {
		c.closeCode, c.closeReason = CloseGoingAway, "connection dropped"
		close(c.closing)
	})
	c.finish()
}

// abort closes at once, for when writing has failed: Run then returns an
// error saying so (ErrClosed), as the connection is broken, not closed by
// anyone's choice.
func (c *Conn) abort(code int, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeReason = code, reason
		c.failure = fmt.Errorf("wire: connection aborted, %s: %w", reason, ErrClosed)
		close(c.closing)
	})
	c.finish()
}

// finish writes the close frame and closes the socket, once.
func (c *Conn) finish() {
	<-c.closing // closeCode and closeReason are set
	c.finishOnce.Do(func() {
		if c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(c.closeCode, c.closeReason), time.Now().Add(WriteWait)) == nil {
			_ = c.flushPending() // best effort: the close frame may be pending
		}
		_ = c.ws.Close()
		close(c.done)
	})
}

// Done is closed once the socket is closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Stats are a connection's counters.
type Stats struct {
	AudioSent, AudioReceived, AudioDropped uint64
	// AudioMalformed counts binary messages dropped because they were not
	// valid audio frames.
	AudioMalformed uint64
	LastRead       time.Time
}

// Stats returns the connection's counters.
func (c *Conn) Stats() Stats {
	return Stats{
		AudioSent:      c.sentAud.Load(),
		AudioReceived:  c.recvAud.Load(),
		AudioDropped:   c.dropped.Load(),
		AudioMalformed: c.badAud.Load(),
		LastRead:       time.Unix(0, c.lastRead.Load()),
	}
}

// CheckAudio validates a binary frame's header and length without decoding
// its samples: the server's relay path forwards frames it has only checked.
func CheckAudio(b []byte) error {
	if len(b) < AudioHeaderSize+BytesPerSample {
		return fmt.Errorf("%w: audio frame of %d bytes is shorter than header plus one sample", ErrMalformed, len(b))
	}
	if b[0] != AudioMagic {
		return fmt.Errorf("%w: audio magic 0x%02x, want 0x%02x", ErrMalformed, b[0], AudioMagic)
	}
	if b[1]&^FlagMarker != 0 {
		return fmt.Errorf("%w: unknown audio flags 0x%02x", ErrMalformed, b[1])
	}
	p := len(b) - AudioHeaderSize
	if p%BytesPerSample != 0 || p/BytesPerSample > MaxFrameSamples {
		return fmt.Errorf("%w: audio payload of %d bytes", ErrMalformed, p)
	}
	return nil
}

// readMessage is websocket.Conn.ReadMessage with audio frames read into
// recycled buffers (see AudioBuffer). A binary message longer than an audio
// frame can be (but within the read limit) is read to its end and returned
// as nil: malformed audio, which the caller drops.
func (c *Conn) readMessage() (int, []byte, error) {
	kind, r, err := c.ws.NextReader()
	if err != nil {
		return kind, nil, err
	}
	if kind != websocket.BinaryMessage {
		b, err := io.ReadAll(r)
		return kind, b, err
	}
	b := AudioBuffer()
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return kind, b, nil
		}
		if err != nil {
			recycle(b)
			return kind, nil, err
		}
		if len(b) == cap(b) {
			// Full: the frame ends here, or it is longer than any audio
			// frame and is skipped (the read limit still bounds it).
			var one [1]byte
			n, err := io.ReadFull(r, one[:])
			if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
				return kind, b, nil
			}
			recycle(b)
			if err == nil {
				_, err = io.Copy(io.Discard, r)
			}
			if err != nil && err != io.EOF {
				return kind, nil, err
			}
			return kind, nil, nil
		}
	}
}
