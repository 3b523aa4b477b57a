package server

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/wire"
)

// AudioSink takes encoded wire audio frames (header and samples, as on the
// wire). SendAudioRaw must not block and owns raw afterwards; it reports
// whether the frame was taken. *wire.Conn is one: relaying a frame to the
// other party is a single SendAudioRaw on its connection.
type AudioSink interface {
	SendAudioRaw(raw []byte) bool
}

// route is where a leg's audio goes. It is swapped atomically as the call
// changes (answered, ended), so the per-frame path takes no lock and never
// asks the registry.
type route struct {
	sink AudioSink
	held *atomic.Uint32 // the call's hold bits; any set means no audio either way
}

// endpoint is a far end the server itself provides: echo, IVR or a trunk call.
// Its SendAudioRaw receives the caller's audio on the caller's reader
// goroutine; the other methods are called by the registry and must not block.
type endpoint interface {
	AudioSink
	dtmf(digit byte)
	hold(on bool)
	close()
}

// stamper gives frames the server generates its own sequence numbers and
// timestamps, the first with the marker bit (PROTOCOL.md, Audio frames). It
// is used by one goroutine at a time.
type stamper struct {
	seq, ts uint32
	marker  bool
	last    time.Time // when the previous frame was stamped
}

func newStamper() stamper { return stamper{marker: true} }

// resync marks the next frame as the start of a talk spurt and moves the
// timestamp on by the silence since the last frame, as RTP does, so a
// receiver's jitter buffer sees real time pass.
func (s *stamper) resync(now time.Time) {
	s.marker = true
	if !s.last.IsZero() {
		gap := now.Sub(s.last) - wire.FrameMillis*time.Millisecond
		if gap > 0 {
			s.ts += uint32(gap.Milliseconds() * wire.SampleRate / 1000)
		}
	}
}

// stamp rewrites raw's header in place (raw is a checked frame we own).
func (s *stamper) stamp(raw []byte, now time.Time) {
	var flags byte
	if s.marker {
		flags = wire.FlagMarker
		s.marker = false
	}
	raw[1] = flags
	binary.BigEndian.PutUint32(raw[2:6], s.seq)
	binary.BigEndian.PutUint32(raw[6:10], s.ts)
	s.seq++
	s.ts += uint32((len(raw) - wire.AudioHeaderSize) / wire.BytesPerSample)
	s.last = now
}

// encode returns a new frame of samples. A new buffer per frame is needed
// because the connection's writer owns a frame until it is written.
func (s *stamper) encode(samples []int16, now time.Time) []byte {
	b := wire.AudioBuffer()[:wire.AudioHeaderSize]
	clear(b)
	b[0] = wire.AudioMagic
	for _, v := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	s.stamp(b, now)
	return b
}

// frameSource produces 20 ms frames for a player. next fills out and reports
// whether it had anything to play; false idles the player until poked.
type frameSource interface {
	next(out []int16) bool
}

// player paces a frameSource into a sink at one frame per 20 ms, on one
// goroutine with one time.Ticker. The ticker runs only while there is
// something to play and the player is not paused, so an idle IVR or a call
// off hold costs nothing.
type player struct {
	sink   AudioSink
	src    frameSource
	wake   chan struct{}
	quit   chan struct{}
	once   sync.Once
	paused atomic.Bool
}

// startPlayer starts playing src into sink at once. spawn runs the player's
// goroutine (so the server can wait for it); it returns nil if spawn refuses.
func startPlayer(spawn func(func()) bool, sink AudioSink, src frameSource) *player {
	p := &player{sink: sink, src: src, wake: make(chan struct{}, 1), quit: make(chan struct{})}
	if !spawn(p.run) {
		return nil
	}
	return p
}

func (p *player) run() {
	var (
		tick *time.Ticker
		tc   <-chan time.Time
		st   = newStamper()
		buf  = make([]int16, wire.FrameSamples)
	)
	start := func() {
		if tick == nil && !p.paused.Load() {
			tick = time.NewTicker(wire.FrameMillis * time.Millisecond)
			tc = tick.C
			st.resync(time.Now())
		}
	}
	stop := func() {
		if tick != nil {
			tick.Stop()
			tick, tc = nil, nil
		}
	}
	defer stop()
	start()
	for {
		select {
		case <-p.quit:
			return
		case <-p.wake:
			if p.paused.Load() {
				stop()
			} else {
				start()
			}
		case now := <-tc:
			if p.paused.Load() || !p.src.next(buf) {
				stop()
				continue
			}
			p.sink.SendAudioRaw(st.encode(buf, now))
		}
	}
}

// poke tells the player there may be something new to play. The player
// methods are no-ops on nil (a player refused during shutdown).
func (p *player) poke() {
	if p == nil {
		return
	}
	select {
	case p.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// pause stops (true) or resumes (false) playback where it was.
func (p *player) pause(on bool) {
	if p == nil {
		return
	}
	p.paused.Store(on)
	p.poke()
}

// stop ends the player; safe to call more than once and on nil.
func (p *player) stop() {
	if p != nil {
		p.once.Do(func() { close(p.quit) })
	}
}

// loopSource plays an endless generator such as hold music or a tone.
type loopSource struct{ src dsp.Source }

func (l loopSource) next(out []int16) bool {
	l.src.Fill(out)
	return true
}

// echo is the far end of an echo DID: it sends each frame straight back,
// re-stamped with its own sequence and timestamp. It is reactive, so it needs
// no goroutine: it runs on the caller's reader goroutine.
type echo struct {
	out    AudioSink
	st     stamper // reader goroutine only
	resync atomic.Bool
}

func newEcho(out AudioSink) *echo { return &echo{out: out, st: newStamper()} }

func (e *echo) SendAudioRaw(raw []byte) bool {
	now := time.Now()
	if e.resync.Swap(false) {
		e.st.resync(now)
	}
	e.st.stamp(raw, now)
	return e.out.SendAudioRaw(raw)
}

func (e *echo) dtmf(byte) {}

func (e *echo) hold(on bool) {
	if !on {
		e.resync.Store(true)
	}
}

func (e *echo) close() {}
