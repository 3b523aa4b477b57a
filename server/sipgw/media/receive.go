package media

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtp"

	"github.com/onecxi/phone/wire"
)

// Receiving follows RFC 3550 appendix A.1, simplified: a stream is one
// SSRC; its sequence numbers are extended to 32 bits across wrap-around;
// a jump too far either way is believed only when the next packet follows
// it; another SSRC takes over after a silence of the current one, or once
// it has sent a few packets in sequence.
const (
	maxDropout  = 3000 // forward jump still taken as loss
	maxMisorder = 100  // backward jump still taken as late
	// ssrcTakeover is the silence after which another SSRC is a new stream
	// at once (a PBX switching sources mid-call), and ssrcProbation the
	// in-order packets it needs otherwise.
	ssrcTakeover  = 3 * wire.FrameMillis * time.Millisecond
	ssrcProbation = 2
	seenWindow    = 64 // packets behind the highest checked for duplicates
)

// rxState is the receiving goroutine's: the stream being received.
type rxState struct {
	pkt rtp.Packet

	active bool
	ssrc   uint32
	maxExt uint32 // highest extended sequence number
	seen   uint64 // bit i set: maxExt-i has arrived
	lastAt int64  // mono time of its last packet
	// offset turns extended sequence numbers into wire ones: 0 for the
	// first stream; later streams and split packets continue the numbering.
	offset    uint32
	newStream bool // the next frame gets the marker

	haveBad bool   // a jump is on probation ...
	badSeq  uint16 // ... and this is the number that would confirm it
	cand    uint32 // another SSRC on probation
	candSeq uint16
	candN   int

	haveEvent bool
	eventTS   uint32 // the timestamp of the last event reported
}

// verdict is what the sequence tracking makes of a packet.
type verdict uint8

const (
	inOrder verdict = iota // the newest so far (after a gap or not)
	late                   // older than the newest, not seen before
	duplicate
	foreign // another stream, or a wild jump on probation: dropped
)

// track places a packet in the stream and returns its extended sequence
// number.
func (r *rxState) track(ssrc uint32, seq uint16, now int64, c *counters) (uint32, verdict) {
	if !r.active || (ssrc != r.ssrc && r.takeover(ssrc, seq, now)) {
		r.restart(ssrc, seq, now)
		return r.maxExt, inOrder
	}
	if ssrc != r.ssrc {
		return 0, foreign
	}
	ext := r.maxExt + uint32(int32(int16(seq-uint16(r.maxExt))))
	d := int32(ext - r.maxExt)
	switch {
	case d > 0 && d <= maxDropout:
		if d > 1 {
			c.lost.Add(uint64(d - 1))
		}
		if d >= seenWindow {
			r.seen = 1
		} else {
			r.seen = r.seen<<d | 1
		}
		r.maxExt, r.lastAt, r.haveBad = ext, now, false
		return ext, inOrder
	case d == 0:
		return ext, duplicate
	case d < 0 && d >= -maxMisorder:
		r.lastAt = now
		if -d < seenWindow {
			bit := uint64(1) << -d
			if r.seen&bit != 0 {
				return ext, duplicate
			}
			r.seen |= bit
		}
		if c.lost.Load() > 0 {
			c.lost.Add(^uint64(0)) // counted lost when its successor came
		}
		return ext, late
	}
	if r.haveBad && seq == r.badSeq {
		// Two in a row after the jump: the sender restarted its numbering.
		r.restart(ssrc, seq, now)
		return r.maxExt, inOrder
	}
	r.haveBad, r.badSeq = true, seq+1
	return 0, foreign
}

// takeover reports whether a packet of another SSRC starts a new stream.
func (r *rxState) takeover(ssrc uint32, seq uint16, now int64) bool {
	if now-r.lastAt >= int64(ssrcTakeover) {
		return true
	}
	if ssrc == r.cand && seq == r.candSeq+1 {
		r.candN++
	} else {
		r.cand, r.candN = ssrc, 1
	}
	r.candSeq = seq
	return r.candN >= ssrcProbation
}

// restart makes (ssrc, seq) the start of a stream. Nothing before it counts
// as lost, and the wire numbering carries on from the previous stream's.
func (r *rxState) restart(ssrc uint32, seq uint16, now int64) {
	offset := uint32(0)
	if r.active {
		offset = r.maxExt + r.offset + 1 - uint32(seq)
	}
	*r = rxState{
		pkt:    r.pkt,
		active: true, ssrc: ssrc, maxExt: uint32(seq), seen: 1, lastAt: now,
		offset: offset, newStream: r.active,
	}
}

// readLoop reads datagrams until the socket closes.
func (s *Session) readLoop() {
	defer s.wg.Done()
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || !s.running.Load() {
				return
			}
			// Transient (an ICMP error reported on the socket): go on, but
			// do not spin on one that persists.
			s.cfg.Log.Debug("RTP read", "err", err)
			select {
			case <-s.closed:
				return
			case <-time.After(time.Millisecond):
			}
			continue
		}
		s.handlePacket(buf[:n], from)
	}
}

// handlePacket takes one datagram. It must not panic whatever b holds.
func (s *Session) handlePacket(b []byte, from netip.AddrPort) {
	r := &s.rx
	if len(b) < rtpHeaderSize || b[0]>>6 != 2 || r.pkt.Unmarshal(b) != nil {
		s.stats.invalid.Add(1)
		return
	}
	h := &r.pkt.Header
	st := s.state.Load()
	isAudio := h.PayloadType == st.codec.PayloadType
	isEvent := st.eventPT != 0 && h.PayloadType == st.eventPT
	if !isAudio && !isEvent || len(r.pkt.Payload) == 0 {
		s.stats.invalid.Add(1)
		return
	}
	now := s.mono()
	ext, v := r.track(h.SSRC, h.SequenceNumber, now, &s.stats)
	switch v {
	case foreign:
		s.stats.invalid.Add(1)
		return
	case duplicate:
		s.stats.duplicate.Add(1)
	case late:
		s.stats.late.Add(1)
	}
	s.stats.packetsReceived.Add(1)
	s.stats.bytesReceived.Add(uint64(len(b)))
	s.lastRecv.Store(now)
	if from.Addr().Unmap() != st.remote.Addr().Unmap() || from.Port() != st.remote.Port() {
		s.latch(from)
	}
	if v == duplicate || !st.dir.Receives() {
		return
	}
	if isEvent {
		s.receiveEvent(h.Timestamp, r.pkt.Payload)
		return
	}
	s.deliver(st.law, ext, h.Timestamp, h.Marker, r.pkt.Payload)
}

// latch sends to from from now on (see the package doc).
func (s *Session) latch(from netip.AddrPort) {
	s.mu.Lock()
	st := *s.state.Load()
	old := st.remote
	st.remote = from
	s.state.Store(&st)
	s.mu.Unlock()
	s.cfg.Log.Info("RTP latched onto the far end's source", "from", old.String(), "to", from.String())
}

// receiveEvent reports a digit on the first packet of its event: the
// packets of one event share its timestamp, and a later event has a later
// one.
func (s *Session) receiveEvent(ts uint32, payload []byte) {
	r := &s.rx
	if r.haveEvent && int32(ts-r.eventTS) <= 0 {
		return
	}
	ev, err := DecodeEvent(payload)
	if err != nil {
		return // not DTMF (flash, modem tones): nothing to report
	}
	r.haveEvent, r.eventTS = true, ts
	s.stats.digitsReceived.Add(1)
	if s.cfg.OnDTMF != nil {
		s.cfg.OnDTMF(ev.Digit)
	}
}

// deliver decodes an audio payload into wire frames for the sink: one, or
// several of at most wire.MaxFrameSamples for a longer packet.
func (s *Session) deliver(l law, ext, ts uint32, marker bool, payload []byte) {
	r := &s.rx
	var flags byte
	if marker || r.newStream {
		flags = wire.FlagMarker
	}
	r.newStream = false
	seq := ext + r.offset
	parts := (len(payload) + wire.MaxFrameSamples - 1) / wire.MaxFrameSamples
	per := (len(payload) + parts - 1) / parts
	// Split frames take numbers of their own; later packets move up.
	r.offset += uint32(parts - 1)
	sink := s.cfg.Sink
	for len(payload) > 0 {
		chunk := payload[:min(per, len(payload))]
		payload = payload[len(chunk):]
		if sink != nil {
			f := wire.AudioBuffer()
			f = append(f, wire.AudioMagic, flags)
			f = binary.BigEndian.AppendUint32(f, seq)
			f = binary.BigEndian.AppendUint32(f, ts)
			f = l.decodeLE(f, chunk)
			if !sink.SendAudioRaw(f) {
				s.stats.sinkDropped.Add(1)
			}
		}
		flags = 0
		seq++
		ts += uint32(len(chunk))
	}
}
