package callcore

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/wire"
)

// defaultAudioDevice is the system's microphone and speaker (miniaudio). A
// machine without audio hardware (or a build without cgo) fails when the
// device starts, and the Start methods report ErrAudioSessionSetupFailed
// before anything is dialled.
func defaultAudioDevice() (audio.Device, error) {
	return audio.NewMalgoDevice(), nil
}

// media is a call's audio pipeline: the audio.Stream the device clocks.
//
// Capture (device goroutine) sends microphone frames on the call socket only
// while the call is active and neither muted nor held. Playback (device
// goroutine) plays ringback while ringing, the jitter buffer while active,
// silence on hold, with DTMF feedback mixed on top. onAudio (the socket's
// reader goroutine) decodes received frames into the jitter buffer.
//
// Flags are atomics so the 20 ms paths never wait for the SDK's lock. The
// jitter buffer and the DTMF feedback lock themselves (the reader pushes and
// the app plays digits while the device pops); the ringback is under mu.
type media struct {
	log *slog.Logger

	conn       atomic.Pointer[wire.Conn]
	phase      atomic.Int32
	muted      atomic.Bool
	held       atomic.Bool
	remoteHeld atomic.Bool
	marker     atomic.Bool // the next sent frame starts a talk spurt

	// Capture goroutine only.
	seq, ts uint32

	// Reader goroutine only (arrivals' estimate is read by the quality sampler).
	decodeBuf []int16
	arrivals  interarrival

	jb *audio.JitterBuffer

	dtmf *audio.DTMFFeedback

	mu       sync.Mutex
	ringback *audio.Ringback

	captured, sent, suppressed, dropped atomic.Uint64
	received, discarded, malformed      atomic.Uint64
	played                              atomic.Uint64
	playedSamples                       atomic.Uint64 // from the jitter buffer, for call quality
}

func newMedia(log *slog.Logger) *media {
	m := &media{
		log:       log,
		jb:        audio.NewJitterBuffer(),
		ringback:  audio.NewRingback(),
		dtmf:      audio.NewDTMFFeedback(),
		decodeBuf: make([]int16, 0, wire.MaxFrameSamples),
	}
	m.marker.Store(true)
	return m
}

// attach sets the socket frames go out on; nil drops them (reconnecting).
func (m *media) attach(c *wire.Conn) { m.conn.Store(c) }

// resumed attaches the socket a resumed call goes on with. What was
// buffered before the loss is stale, and what is sent next starts a talk
// spurt.
func (m *media) resumed(c *wire.Conn) {
	m.jb.Reset()
	m.marker.Store(true)
	m.conn.Store(c)
}

// setPhase switches what plays and whether audio is sent. Entering the
// active phase starts a fresh talk spurt and a fresh jitter buffer.
func (m *media) setPhase(p int32) {
	if old := m.phase.Swap(p); old != p && p == phaseActive {
		m.marker.Store(true)
		m.jb.Reset()
	}
}

func (m *media) setMuted(on bool) {
	if m.muted.Swap(on) && !on {
		m.marker.Store(true) // unmute starts a talk spurt
	}
}

func (m *media) isMuted() bool { return m.muted.Load() }

func (m *media) setHeld(on bool) {
	if m.held.Swap(on) != on && !on {
		m.marker.Store(true)
		m.jb.Reset() // whatever was buffered before the hold is stale
	}
}

func (m *media) isHeld() bool { return m.held.Load() }

func (m *media) setRemoteHeld(on bool) { m.remoteHeld.Store(on) }

func (m *media) playDTMF(digit byte) { m.dtmf.Play(digit) } // DTMFFeedback locks itself

// Capture implements audio.Stream. The timestamp advances with every
// captured frame, sent or not, so the receiver sees the real gap after a
// mute or hold; the sequence number advances only with sent frames, so a
// gap in it means loss.
func (m *media) Capture(frame []int16) {
	m.captured.Add(1)
	ts := m.ts
	m.ts += uint32(len(frame))
	if m.phase.Load() != phaseActive || m.muted.Load() || m.held.Load() {
		m.suppressed.Add(1)
		m.marker.Store(true)
		return
	}
	c := m.conn.Load()
	if c == nil || len(frame) == 0 {
		if c == nil {
			m.suppressed.Add(1) // reconnecting: nowhere to send it
			m.marker.Store(true)
		}
		return
	}
	var flags byte
	if m.marker.Swap(false) {
		flags = wire.FlagMarker
	}
	for len(frame) > 0 { // a device may deliver more than one wire frame
		n := min(len(frame), wire.MaxFrameSamples)
		if c.SendAudio(wire.AudioFrame{Flags: flags, Seq: m.seq, Timestamp: ts, Samples: frame[:n]}) {
			m.sent.Add(1)
		} else {
			m.dropped.Add(1)
		}
		m.seq++
		ts += uint32(n)
		flags = 0
		frame = frame[n:]
	}
}

// Playback implements audio.Stream.
func (m *media) Playback(out []int16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.phase.Load() == phaseRinging:
		m.ringback.Fill(out)
	case m.phase.Load() == phaseActive && !m.held.Load():
		m.jb.Pop(out)
		m.played.Add(1)
		m.playedSamples.Add(uint64(len(out)))
	default:
		clear(out)
	}
	m.dtmf.MixNext(out)
}

// onAudio receives a frame on the socket's reader goroutine. Frames are kept
// only while they can be played (active, not held).
func (m *media) onAudio(raw []byte) {
	m.received.Add(1)
	if m.phase.Load() != phaseActive || m.held.Load() {
		m.discarded.Add(1)
		return
	}
	f, err := wire.DecodeAudio(raw, m.decodeBuf)
	if err != nil {
		m.malformed.Add(1)
		return
	}
	m.decodeBuf = f.Samples[:0]
	m.arrivals.arrive(f.Timestamp, f.Flags&wire.FlagMarker != 0, time.Now())
	m.jb.Push(f) // copies; the buffer has its own lock
}

// CallStats are a call's audio and connection counters, for UIs and the
// CLI. CallStats returns those of the current call, or of the last one.
type CallStats struct {
	CallID   string
	CallType CallType
	Number   string // the DID or number the call is with
	State    CallState

	StartedAt  time.Time // Start called
	AnsweredAt time.Time // zero if never answered
	EndedAt    time.Time // zero while live
	Duration   time.Duration
	EndReason  EndReason // why it ended; "" while live
	Resumes    int       // times the call's connection was lost and restored

	FramesCaptured   uint64 // from the microphone
	FramesSent       uint64 // queued on the socket
	FramesSuppressed uint64 // not sent: ringing, muted or held
	FramesDropped    uint64 // the socket's queue was full
	FramesReceived   uint64 // from the server
	FramesDiscarded  uint64 // received while not playable (ringing, held)
	FramesMalformed  uint64
	FramesPlayed     uint64 // played from the jitter buffer

	Jitter audio.JitterStats // the receive jitter buffer
	Conn   wire.Stats        // the socket's counters
}

// CallStats returns the counters of the current call, or of the last call
// when none is live (zero before the first call).
func (s *SDK) CallStats() CallStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.call != nil {
		return s.call.statsLocked()
	}
	return s.lastStats
}

// statsLocked snapshots c's counters. Callers hold s.mu.
func (c *call) statsLocked() CallStats {
	m := c.media
	st := CallStats{
		CallID:           c.serverID,
		CallType:         c.p.typ,
		Number:           c.p.to,
		StartedAt:        c.startedAt,
		AnsweredAt:       c.answeredAt,
		EndedAt:          c.endedAt,
		FramesCaptured:   m.captured.Load(),
		FramesSent:       m.sent.Load(),
		FramesSuppressed: m.suppressed.Load(),
		FramesDropped:    m.dropped.Load(),
		FramesReceived:   m.received.Load(),
		FramesDiscarded:  m.discarded.Load(),
		FramesMalformed:  m.malformed.Load(),
		FramesPlayed:     m.played.Load(),
		Resumes:          c.resumes,
	}
	switch c.phase {
	case phaseConnecting:
		st.State = CallStateConnecting
	case phaseRinging:
		st.State = CallStateRinging
	case phaseActive:
		st.State = CallStateActive
	}
	if !c.answeredAt.IsZero() {
		end := c.endedAt
		if end.IsZero() {
			end = time.Now()
		}
		st.Duration = end.Sub(c.answeredAt)
	}
	st.Jitter = m.jb.Stats()
	if c.conn != nil {
		st.Conn = c.conn.Stats()
	}
	return st
}
