package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

var farEnd = netip.MustParseAddrPort("192.0.2.7:4000")

// pkt is one received packet of a scenario.
type pkt struct {
	ssrc   uint32
	seq    uint16
	ts     uint32
	marker bool
	n      int           // PCMU samples
	sleep  time.Duration // before it arrives
}

func TestReceiveSequence(t *testing.T) {
	type frameWant struct {
		seq, ts uint32
		marker  bool
		n       int
	}
	tests := []struct {
		name                  string
		pkts                  []pkt
		want                  []frameWant
		lost, late, dup, drop uint64
	}{
		{
			name: "wrap-around extends the sequence",
			pkts: []pkt{{seq: 65534, ts: 0, n: 160}, {seq: 65535, ts: 160, n: 160}, {seq: 0, ts: 320, n: 160}, {seq: 1, ts: 480, n: 160}},
			want: []frameWant{{65534, 0, false, 160}, {65535, 160, false, 160}, {65536, 320, false, 160}, {65537, 480, false, 160}},
		},
		{
			name: "loss, late and duplicate",
			pkts: []pkt{{seq: 1, n: 160}, {seq: 2, ts: 160, n: 160}, {seq: 5, ts: 640, n: 160}, {seq: 3, ts: 320, n: 160}, {seq: 3, ts: 320, n: 160}, {seq: 5, ts: 640, n: 160}},
			want: []frameWant{{1, 0, false, 160}, {2, 160, false, 160}, {5, 640, false, 160}, {3, 320, false, 160}},
			lost: 1, late: 1, dup: 2,
		},
		{
			name: "packets of 10, 30 and 120 ms pass whole, marker copied",
			pkts: []pkt{{seq: 10, marker: true, n: 80}, {seq: 11, ts: 80, n: 240}, {seq: 12, ts: 320, n: wire.MaxFrameSamples}},
			want: []frameWant{{10, 0, true, 80}, {11, 80, false, 240}, {12, 320, false, wire.MaxFrameSamples}},
		},
		{
			name: "a longer packet is split and later numbers move up",
			pkts: []pkt{{seq: 10, marker: true, n: 1200}, {seq: 11, ts: 1200, n: 160}},
			want: []frameWant{{10, 0, true, 600}, {11, 600, false, 600}, {12, 1200, false, 160}},
		},
		{
			name: "a new SSRC after a silence is a new stream",
			pkts: []pkt{{ssrc: 1, seq: 100, ts: 5000, n: 160}, {ssrc: 2, seq: 40000, ts: 9, n: 160, sleep: 2 * ssrcTakeover}, {ssrc: 2, seq: 40001, ts: 169, n: 160}},
			want: []frameWant{{100, 5000, false, 160}, {101, 9, true, 160}, {102, 169, false, 160}},
		},
		{
			name: "another SSRC without a silence needs packets in sequence",
			pkts: []pkt{{ssrc: 1, seq: 1, n: 160}, {ssrc: 2, seq: 50, ts: 7, n: 160}, {ssrc: 1, seq: 2, ts: 160, n: 160}, {ssrc: 2, seq: 51, ts: 167, n: 160}, {ssrc: 1, seq: 3, ts: 320, n: 160}},
			want: []frameWant{{1, 0, false, 160}, {2, 160, false, 160}, {3, 167, true, 160}},
			drop: 2,
		},
		{
			name: "a wild jump needs a second packet",
			pkts: []pkt{{seq: 10, n: 160}, {seq: 30000, ts: 99, n: 160}, {seq: 11, ts: 160, n: 160}, {seq: 20000, ts: 7, n: 160}, {seq: 20001, ts: 167, n: 160}},
			want: []frameWant{{10, 0, false, 160}, {11, 160, false, 160}, {12, 167, true, 160}},
			drop: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &frameSink{}
			s := configured(t, SessionConfig{Remote: farEnd, Codec: PCMU, EventPT: DefaultEventPT, Sink: sink})
			for _, p := range tt.pkts {
				time.Sleep(p.sleep) // a real silence: the SSRC takeover reads the clock
				s.handlePacket(rtpPacket(t, 0, p.ssrc, p.seq, p.ts, p.marker, make([]byte, p.n)), farEnd)
			}
			var got []frameWant
			for _, f := range sink.get() {
				got = append(got, frameWant{f.Seq, f.Timestamp, f.Flags&wire.FlagMarker != 0, len(f.Samples)})
			}
			assert.Equal(t, tt.want, got)
			st := s.Stats()
			assert.Equal(t, tt.lost, st.Lost, "lost")
			assert.Equal(t, tt.late, st.Late, "late")
			assert.Equal(t, tt.dup, st.Duplicate, "duplicate")
			assert.Equal(t, tt.drop, st.Invalid, "dropped")
		})
	}
}

func TestReceiveDecodes(t *testing.T) {
	sink := &frameSink{}
	s := configured(t, SessionConfig{Remote: farEnd, Codec: PCMA, Sink: sink})
	in := tone(1000, 10000, 0, 160)
	s.handlePacket(rtpPacket(t, 8, 1, 1, 1, false, PCMA.Encode(nil, in)), farEnd)
	s.handlePacket(rtpPacket(t, 0, 1, 2, 161, false, PCMU.Encode(nil, in)), farEnd) // not negotiated
	frames := sink.get()
	require.Len(t, frames, 1)
	assert.Equal(t, PCMA.Decode(nil, PCMA.Encode(nil, in)), frames[0].Samples)
	assert.EqualValues(t, 1, s.Stats().Invalid)
}

func TestReceiveSinkDropped(t *testing.T) {
	s := configured(t, SessionConfig{Remote: farEnd, Codec: PCMU, Sink: refuseSink{}})
	s.handlePacket(rtpPacket(t, 0, 1, 1, 1, false, make([]byte, 160)), farEnd)
	assert.EqualValues(t, 1, s.Stats().SinkDropped)
}

type refuseSink struct{}

func (refuseSink) SendAudioRaw([]byte) bool { return false }

func TestReceiveDTMF(t *testing.T) {
	ev := func(digit byte, end bool, dur uint16) []byte {
		b, err := EncodeEvent(nil, Event{Digit: digit, End: end, Volume: 10, Duration: dur})
		require.NoError(t, err)
		return b
	}
	type evPkt struct {
		seq     uint16
		ts      uint32
		payload []byte
	}
	tests := []struct {
		name string
		dir  Direction
		pkts []evPkt
		want string
	}{
		{"one event, updates and three ends", SendRecv, []evPkt{
			{1, 1000, ev('7', false, 160)}, {2, 1000, ev('7', false, 320)}, {3, 1000, ev('7', true, 480)},
			{4, 1000, ev('7', true, 480)}, {5, 1000, ev('7', true, 480)},
		}, "7"},
		{"same digit twice", SendRecv, []evPkt{
			{1, 1000, ev('1', false, 160)}, {2, 1000, ev('1', true, 320)},
			{3, 2000, ev('1', false, 160)}, {4, 2000, ev('1', true, 320)},
		}, "11"},
		{"start lost: the end reports it", SendRecv, []evPkt{{3, 1000, ev('#', true, 800)}, {4, 1000, ev('#', true, 800)}}, "#"},
		{"a late retransmission of an earlier event", SendRecv, []evPkt{
			{1, 1000, ev('2', false, 160)}, {3, 2000, ev('3', false, 160)}, {2, 1000, ev('2', true, 160)},
		}, "23"},
		{"A-D and a non-DTMF event", SendRecv, []evPkt{{1, 1000, ev('D', false, 160)}, {2, 2000, []byte{16, 0, 0, 160}}, {3, 3000, ev('a', false, 160)}}, "DA"},
		{"held: dropped", SendOnly, []evPkt{{1, 1000, ev('1', false, 160)}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := &digits{}
			sink := &frameSink{}
			s := configured(t, SessionConfig{Remote: farEnd, Codec: PCMU, EventPT: 96, Sink: sink, OnDTMF: got.add})
			s.SetDirection(tt.dir)
			for _, p := range tt.pkts {
				s.handlePacket(rtpPacket(t, 96, 1, p.seq, p.ts, false, p.payload), farEnd)
			}
			assert.Equal(t, tt.want, got.String())
			assert.Zero(t, sink.count(), "events are not audio")
		})
	}
}

func TestReceiveLatch(t *testing.T) {
	s := configured(t, SessionConfig{Remote: farEnd, Codec: PCMU})
	nat := netip.MustParseAddrPort("203.0.113.9:61000")
	s.handlePacket([]byte("not rtp at all, not even close"), nat)
	assert.Equal(t, farEnd, s.state.Load().remote, "garbage does not move the stream")
	s.handlePacket(rtpPacket(t, 0, 1, 1, 1, false, make([]byte, 160)), nat)
	assert.Equal(t, nat, s.state.Load().remote)
	s.handlePacket(rtpPacket(t, 0, 99, 50, 1, false, make([]byte, 160)), farEnd)
	assert.Equal(t, nat, s.state.Load().remote, "a foreign SSRC does not move it either")
}
