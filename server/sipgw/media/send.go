package media

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/pion/rtp"

	"github.com/onecxi/phone/wire"
)

// Telephone-events we send: 100 ms of tone, the usual length of a
// generated digit, updated every frame, then the end packet three times
// (RFC 4733 section 2.5.1.4), and a pause before the next digit so the far
// end hears two presses of the same key as two.
const (
	eventSamples  = 800
	eventInterval = wire.FrameMillis * time.Millisecond
	eventEnds     = 3
	eventVolume   = 10 // -10 dBm0
	interDigitGap = 50 * time.Millisecond
)

// samplePeriod is one sample at ClockRate: dividing a duration by it gives
// samples without overflow.
const samplePeriod = time.Second / ClockRate

// txState is our stream's numbering, guarded by Session.txMu.
type txState struct {
	hdr    rtp.Header
	nextTS uint32    // the timestamp that follows the last packet
	lastTS uint32    // the last packet's timestamp
	lastAt time.Time // when it was sent
	sent   bool
	buf    [rtpHeaderSize + wire.MaxFrameSamples]byte
}

// init picks a random SSRC, first sequence number and timestamp (RFC 3550
// section 5.1).
func (t *txState) init() {
	t.hdr = newHeader()
	t.hdr.SSRC = rand.Uint32()
	t.hdr.SequenceNumber = uint16(rand.Uint32())
	t.nextTS = rand.Uint32()
	t.sent = false
}

// timestamp is the RTP timestamp of a packet sent now. A talk spurt
// (marker) starts where the wall clock says, so silence shows as a jump.
func (t *txState) timestamp(now time.Time, marker bool) uint32 {
	ts := t.nextTS
	if marker && t.sent {
		wall := t.lastTS + uint32(now.Sub(t.lastAt)/samplePeriod)
		if int32(wall-ts) > 0 {
			ts = wall
		}
	}
	return ts
}

// packet writes the header of the next packet into buf and returns it.
func (t *txState) packet(pt uint8, marker bool, ts uint32) []byte {
	t.hdr.PayloadType = pt
	t.hdr.Marker = marker
	t.hdr.Timestamp = ts
	n, err := t.hdr.MarshalTo(t.buf[:])
	if err != nil { // cannot happen: a fixed header into a larger buffer
		panic(fmt.Sprintf("media: RTP header: %v", err))
	}
	t.hdr.SequenceNumber++
	return t.buf[:n]
}

// sentAt records a packet of samples at ts.
func (t *txState) sentAt(now time.Time, ts uint32, samples int) {
	t.lastTS, t.nextTS, t.lastAt, t.sent = ts, ts+uint32(samples), now, true
}

// SendAudioRaw sends a wire frame (1..wire.MaxFrameSamples samples) to the
// far end as one RTP packet. It takes raw and never blocks. It reports
// false when the frame is malformed, the session is not running, or our
// direction does not send; while a DTMF event is being sent the frame is
// taken and dropped (RFC 4733 section 2.5.1.1: the tone replaces the
// audio).
func (s *Session) SendAudioRaw(raw []byte) bool {
	defer wire.ReleaseAudioBuffer(raw) // ours now, and encoded below
	if !s.running.Load() {
		return false
	}
	st := s.state.Load()
	if !st.dir.Sends() || !st.remote.IsValid() {
		return false
	}
	if wire.CheckAudio(raw) != nil {
		s.stats.sendErrors.Add(1)
		return false
	}
	if s.dtmfBusy.Load() {
		return true
	}
	marker := raw[1]&wire.FlagMarker != 0
	if s.markNext.Load() && s.markNext.Swap(false) {
		marker = true
	}
	samples := raw[wire.AudioHeaderSize:]
	now := time.Now()
	s.txMu.Lock()
	defer s.txMu.Unlock()
	ts := s.tx.timestamp(now, marker)
	pkt := st.law.encodeLE(s.tx.packet(st.codec.PayloadType, marker, ts), samples)
	s.tx.sentAt(now, ts, len(samples)/wire.BytesPerSample)
	return s.write(pkt, st.remote)
}

// write sends one packet; txMu is held, so packets leave in sequence order.
func (s *Session) write(pkt []byte, to netip.AddrPort) bool {
	if _, err := s.conn.WriteToUDPAddrPort(pkt, to); err != nil {
		s.stats.sendErrors.Add(1)
		return false
	}
	s.stats.packetsSent.Add(1)
	s.stats.bytesSent.Add(uint64(len(pkt)))
	return true
}

// SendDTMF queues digit ('0'-'9', '*', '#', 'A'-'D') to be sent as an RFC
// 4733 event of 100 ms; digits are sent in order, from the session's own
// goroutine. It fails with ErrBadEvent for another digit, ErrNotSending if
// the far end takes no telephone-events or our direction does not send,
// ErrQueueFull, ErrNotStarted or ErrClosed.
func (s *Session) SendDTMF(digit byte) error {
	if !ValidDigit(digit) {
		return fmt.Errorf("%w: digit %q is not DTMF", ErrBadEvent, digit)
	}
	if !s.running.Load() {
		select {
		case <-s.closed:
			return ErrClosed
		default:
			return ErrNotStarted
		}
	}
	st := s.state.Load()
	switch {
	case st.eventPT == 0:
		return fmt.Errorf("%w: the far end takes no telephone-events", ErrNotSending)
	case !st.dir.Sends():
		return fmt.Errorf("%w: direction %s", ErrNotSending, st.dir)
	}
	select {
	case s.dtmfQ <- digit:
		return nil
	default:
		return ErrQueueFull
	}
}

// dtmfLoop sends queued digits one after the other.
func (s *Session) dtmfLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.closed:
			return
		case d := <-s.dtmfQ:
			if !s.sendEvent(d) {
				return
			}
		}
	}
}

// sendEvent sends one digit's event and the pause after it. It reports
// false if the session closed meanwhile.
func (s *Session) sendEvent(digit byte) bool {
	s.dtmfBusy.Store(true)
	defer s.dtmfBusy.Store(false)
	var ts uint32
	tick := time.NewTicker(eventInterval)
	defer tick.Stop()
	ev := Event{Digit: digit, Volume: eventVolume}
	for i := 1; ; i++ {
		ev.Duration = uint16(min(i*wire.FrameSamples, eventSamples))
		ev.End = i > eventSamples/wire.FrameSamples
		for range s.eventRepeats(ev.End) {
			if !s.sendEventPacket(ev, i == 1, &ts) {
				s.cfg.Log.Info("DTMF digit not sent: direction or telephone-event changed", "digit", string(digit))
				return true
			}
		}
		if ev.End {
			break
		}
		select {
		case <-s.closed:
			return false
		case <-tick.C:
		}
	}
	s.stats.digitsSent.Add(1)
	s.dtmfBusy.Store(false)
	pause := time.NewTimer(interDigitGap)
	defer pause.Stop()
	select {
	case <-s.closed:
		return false
	case <-pause.C:
		return true
	}
}

func (s *Session) eventRepeats(end bool) int {
	if end {
		return eventEnds
	}
	return 1
}

// sendEventPacket sends one packet of an event; the first sets *ts, the
// event's timestamp, and the end leaves the audio timestamp after it.
func (s *Session) sendEventPacket(ev Event, first bool, ts *uint32) bool {
	st := s.state.Load()
	if st.eventPT == 0 || !st.dir.Sends() || !st.remote.IsValid() {
		return false
	}
	now := time.Now()
	s.txMu.Lock()
	defer s.txMu.Unlock()
	if first {
		*ts = s.tx.timestamp(now, true)
	}
	pkt, err := EncodeEvent(s.tx.packet(st.eventPT, first, *ts), ev)
	if err != nil { // cannot happen: SendDTMF checked the digit
		return false
	}
	if ev.End {
		// Audio resumes where the tone ended.
		s.tx.sentAt(now, *ts+eventSamples-wire.FrameSamples, wire.FrameSamples)
	} else if first {
		s.tx.sentAt(now, *ts, 0)
	}
	s.write(pkt, st.remote)
	return true
}
