package media

import "sync/atomic"

// Stats are a session's counters since Listen.
type Stats struct {
	// PacketsSent and BytesSent count RTP packets sent (audio and
	// telephone-events) and their size with headers.
	PacketsSent, BytesSent uint64
	// PacketsReceived and BytesReceived count valid RTP packets of the
	// stream received, duplicates included.
	PacketsReceived, BytesReceived uint64
	// Lost counts packets missing from the sequence, less those that came
	// late after all.
	Lost uint64
	// Late counts packets that came after a later one; Duplicate those seen
	// twice (dropped).
	Late, Duplicate uint64
	// Invalid counts datagrams dropped as not ours: not RTP version 2, an
	// unknown payload type, an empty payload, another SSRC while the stream
	// is live, a sequence number far off.
	Invalid uint64
	// SinkDropped counts frames the sink did not take.
	SinkDropped uint64
	// SendErrors counts app frames not sent: malformed, or the socket failed.
	SendErrors uint64
	// DigitsSent and DigitsReceived count DTMF digits.
	DigitsSent, DigitsReceived uint64
}

// counters are the live Stats, updated from several goroutines.
type counters struct {
	packetsSent, bytesSent, packetsReceived, bytesReceived  atomic.Uint64
	lost, late, duplicate, invalid, sinkDropped, sendErrors atomic.Uint64
	digitsSent, digitsReceived                              atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		PacketsSent: c.packetsSent.Load(), BytesSent: c.bytesSent.Load(),
		PacketsReceived: c.packetsReceived.Load(), BytesReceived: c.bytesReceived.Load(),
		Lost: c.lost.Load(), Late: c.late.Load(), Duplicate: c.duplicate.Load(),
		Invalid: c.invalid.Load(), SinkDropped: c.sinkDropped.Load(), SendErrors: c.sendErrors.Load(),
		DigitsSent: c.digitsSent.Load(), DigitsReceived: c.digitsReceived.Load(),
	}
}

// Stats returns the session's counters.
func (s *Session) Stats() Stats { return s.stats.snapshot() }
