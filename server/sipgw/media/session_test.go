package media

import (
	"context"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

func TestSessionToneArrives(t *testing.T) {
	for _, codec := range []Codec{PCMU, PCMA} {
		t.Run(codec.Name, func(t *testing.T) {
			a, b := listen(t), listen(t)
			sink := &frameSink{}
			start(t, a, b.LocalAddr(), func(c *SessionConfig) { c.Codec = codec })
			start(t, b, a.LocalAddr(), func(c *SessionConfig) { c.Codec = codec; c.Sink = sink })

			const frames = 50
			var sent []int16
			for i := range frames {
				samples := tone(440, 12000, i*wire.FrameSamples, wire.FrameSamples)
				sent = append(sent, samples...)
				require.True(t, a.SendAudioRaw(frame(t, uint32(i), i == 0, samples)))
				time.Sleep(time.Millisecond) // keep the loopback socket's buffer from overflowing
			}
			require.Eventually(t, func() bool { return sink.count() == frames }, 2*time.Second, 5*time.Millisecond)

			got := sink.get()
			var received []int16
			for i, f := range got {
				require.Len(t, f.Samples, wire.FrameSamples)
				if i > 0 {
					assert.Equal(t, got[i-1].Seq+1, f.Seq, "frame %d", i)
					assert.Equal(t, got[i-1].Timestamp+wire.FrameSamples, f.Timestamp, "frame %d", i)
				}
				received = append(received, f.Samples...)
			}
			assert.Equal(t, byte(wire.FlagMarker), got[0].Flags, "the first frame keeps its marker")
			assert.InDelta(t, 440, peakFrequency(received), 1)
			assert.Greater(t, snrDB(sent, received), 30.0)

			as, bs := a.Stats(), b.Stats()
			assert.EqualValues(t, frames, as.PacketsSent)
			assert.EqualValues(t, frames*(12+160), as.BytesSent)
			assert.EqualValues(t, frames, bs.PacketsReceived)
			assert.Zero(t, bs.Lost)
			assert.Zero(t, bs.Invalid)
		})
	}
}

func TestSessionDTMF(t *testing.T) {
	a, b := listen(t), listen(t)
	got := &digits{}
	sink := &frameSink{}
	start(t, a, b.LocalAddr(), nil)
	start(t, b, a.LocalAddr(), func(c *SessionConfig) { c.OnDTMF = got.add; c.Sink = sink })

	for _, d := range []byte("1#9*") {
		require.NoError(t, a.SendDTMF(d))
	}
	require.Eventually(t, func() bool { return got.String() == "1#9*" }, 3*time.Second, 10*time.Millisecond)
	// No repeats trickle in: once the last digit's end packets (sent three
	// times) are out, an audio frame follows them, and b handles packets in
	// order, so when the frame reaches the sink every repeat has been seen.
	require.Eventually(t, func() bool { return a.Stats().DigitsSent == 4 && !a.dtmfBusy.Load() }, 3*time.Second, time.Millisecond)
	require.True(t, a.SendAudioRaw(frame(t, 0, false, make([]int16, wire.FrameSamples))))
	require.Eventually(t, func() bool { return sink.count() == 1 }, time.Second, time.Millisecond)
	assert.Equal(t, "1#9*", got.String())
	assert.EqualValues(t, 4, a.Stats().DigitsSent)
	assert.EqualValues(t, 4, b.Stats().DigitsReceived)
	assert.Zero(t, b.Stats().Lost)
}

func TestSessionDTMFPackets(t *testing.T) {
	a, peer := listen(t), newPeer(t)
	start(t, a, peer.addr, nil)
	require.True(t, a.SendAudioRaw(frame(t, 0, false, make([]int16, wire.FrameSamples))))
	audio := peer.read(t, time.Second)
	require.NoError(t, a.SendDTMF('5'))

	// 100 ms updated every 20 ms, the marker on the first, one timestamp,
	// then the end three times (RFC 4733 sections 2.5.1.2-4).
	wantDur := []uint16{160, 320, 480, 640, 800, 800, 800, 800}
	var ts uint32
	for i, dur := range wantDur {
		p := peer.read(t, time.Second)
		require.EqualValues(t, DefaultEventPT, p.PayloadType)
		assert.Equal(t, audio.SequenceNumber+uint16(i)+1, p.SequenceNumber)
		assert.Equal(t, audio.SSRC, p.SSRC)
		assert.Equal(t, i == 0, p.Marker, "packet %d", i)
		if i == 0 {
			ts = p.Timestamp
			assert.GreaterOrEqual(t, int32(ts-audio.Timestamp), int32(wire.FrameSamples))
		}
		assert.Equal(t, ts, p.Timestamp)
		ev, err := DecodeEvent(p.Payload)
		require.NoError(t, err)
		assert.Equal(t, Event{Digit: '5', End: i >= 5, Volume: eventVolume, Duration: dur}, ev)
	}
	// Audio carries on after the tone, in the same numbering.
	require.Eventually(t, func() bool { return !a.dtmfBusy.Load() }, time.Second, time.Millisecond)
	require.True(t, a.SendAudioRaw(frame(t, 1, false, make([]int16, wire.FrameSamples))))
	p := peer.read(t, time.Second)
	assert.EqualValues(t, 0, p.PayloadType)
	assert.Equal(t, audio.SequenceNumber+uint16(len(wantDur))+1, p.SequenceNumber)
	assert.Equal(t, ts+eventSamples, p.Timestamp)
}

func TestSessionAudioSuppressedDuringEvent(t *testing.T) {
	a, peer := listen(t), newPeer(t)
	start(t, a, peer.addr, nil)
	a.dtmfBusy.Store(true)
	assert.True(t, a.SendAudioRaw(frame(t, 0, false, make([]int16, wire.FrameSamples))), "taken")
	assert.Zero(t, a.Stats().PacketsSent)
	assert.True(t, peer.quiet(50*time.Millisecond))
}

func TestSendDTMFErrors(t *testing.T) {
	peer := newPeer(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, s *Session)
		digit byte
		want  error
	}{
		{"bad digit", func(t *testing.T, s *Session) { start(t, s, peer.addr, nil) }, 'x', ErrBadEvent},
		{"not started", func(*testing.T, *Session) {}, '1', ErrNotStarted},
		{"closed", func(t *testing.T, s *Session) { start(t, s, peer.addr, nil); require.NoError(t, s.Close()) }, '1', ErrClosed},
		{"no telephone-event", func(t *testing.T, s *Session) {
			start(t, s, peer.addr, func(c *SessionConfig) { c.EventPT = 0 })
		}, '1', ErrNotSending},
		{"receive only", func(t *testing.T, s *Session) { start(t, s, peer.addr, nil); s.SetDirection(RecvOnly) }, '1', ErrNotSending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := listen(t)
			tt.setup(t, s)
			require.ErrorIs(t, s.SendDTMF(tt.digit), tt.want)
		})
	}
}

func TestSendDTMFQueueFull(t *testing.T) {
	s := listen(t)
	start(t, s, newPeer(t).addr, nil)
	var err error
	for range dtmfQueue + 2 {
		if err = s.SendDTMF('1'); err != nil {
			break
		}
	}
	require.ErrorIs(t, err, ErrQueueFull)
}

func TestSessionSendTimestamps(t *testing.T) {
	a, peer := listen(t), newPeer(t)
	start(t, a, peer.addr, nil)
	send := func(marker bool, n int) {
		require.True(t, a.SendAudioRaw(frame(t, 0, marker, make([]int16, n))))
	}
	send(false, 160)
	first := peer.read(t, time.Second)
	assert.True(t, first.Marker, "the first packet starts a talk spurt")
	send(false, 80)
	p := peer.read(t, time.Second)
	assert.False(t, p.Marker)
	assert.Equal(t, first.Timestamp+160, p.Timestamp)
	assert.Equal(t, first.SequenceNumber+1, p.SequenceNumber)
	assert.Len(t, p.Payload, 80)

	time.Sleep(200 * time.Millisecond) // a real-time pause in sending: the timestamp must show it
	send(true, 160)
	p2 := peer.read(t, time.Second)
	assert.True(t, p2.Marker)
	gap := int32(p2.Timestamp - p.Timestamp)
	assert.GreaterOrEqual(t, gap, int32(1600), "the silence shows in the timestamp")
	assert.Less(t, gap, int32(4000))

	// No marker, no jump, however long the pause.
	time.Sleep(50 * time.Millisecond) // a real-time pause, this time without a marker
	send(false, 160)
	assert.Equal(t, p2.Timestamp+160, peer.read(t, time.Second).Timestamp)
}

func TestSessionRejectsBadFrames(t *testing.T) {
	a, peer := listen(t), newPeer(t)
	start(t, a, peer.addr, nil)
	tests := map[string][]byte{
		"empty":     nil,
		"header":    make([]byte, wire.AudioHeaderSize),
		"magic":     {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0},
		"odd bytes": {wire.AudioMagic, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
		"too long":  append([]byte{wire.AudioMagic, 0, 0, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 2*(wire.MaxFrameSamples+1))...),
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			assert.False(t, a.SendAudioRaw(raw))
		})
	}
	assert.True(t, peer.quiet(30*time.Millisecond))
	assert.EqualValues(t, len(tests), a.Stats().SendErrors)
	assert.True(t, a.SendAudioRaw(frame(t, 0, false, make([]int16, wire.MaxFrameSamples))), "the largest frame fits")
	assert.Len(t, peer.read(t, time.Second).Payload, wire.MaxFrameSamples)
}

func TestSessionDirection(t *testing.T) {
	a, b := listen(t), listen(t)
	sink := &frameSink{}
	start(t, a, b.LocalAddr(), nil)
	start(t, b, a.LocalAddr(), func(c *SessionConfig) { c.Sink = sink })
	f := func() []byte { return frame(t, 0, false, make([]int16, wire.FrameSamples)) }

	a.SetDirection(RecvOnly)
	assert.False(t, a.SendAudioRaw(f()))
	a.SetDirection(Inactive)
	assert.False(t, a.SendAudioRaw(f()))
	a.SetDirection(SendOnly)
	assert.True(t, a.SendAudioRaw(f()))
	require.Eventually(t, func() bool { return sink.count() == 1 }, time.Second, time.Millisecond)
	assert.Equal(t, byte(wire.FlagMarker), sink.get()[0].Flags, "sending again starts a talk spurt")

	b.SetDirection(SendOnly) // b holds a: what arrives is dropped
	require.True(t, a.SendAudioRaw(f()))
	require.Eventually(t, func() bool { return b.Stats().PacketsReceived == 2 }, time.Second, time.Millisecond)
	assert.Equal(t, 1, sink.count())
	a.SetDirection("sideways")
	assert.Equal(t, SendOnly, a.state.Load().dir, "an invalid direction is ignored")
}

func TestSessionTimeout(t *testing.T) {
	const timeout = 150 * time.Millisecond
	tests := []struct {
		name string
		dir  Direction // b's, after a has stopped
		want bool
	}{
		{"far end stops", SendRecv, true},
		{"held by the far end (receive only)", RecvOnly, false},
		{"inactive", Inactive, false},
		{"we hold (send only)", SendOnly, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := listen(t), listen(t)
			fired := make(chan struct{}, 2)
			start(t, a, b.LocalAddr(), nil)
			start(t, b, a.LocalAddr(), func(c *SessionConfig) {
				c.Timeout = timeout
				c.OnTimeout = func() { fired <- struct{}{} }
			})
			for i := range 10 {
				require.True(t, a.SendAudioRaw(frame(t, uint32(i), false, make([]int16, wire.FrameSamples))))
				time.Sleep(wire.FrameMillis * time.Millisecond) // paced like a real stream
			}
			b.SetDirection(tt.dir)
			select {
			case <-fired:
				require.True(t, tt.want, "fired while %s", tt.dir)
			case <-time.After(4 * timeout):
				require.False(t, tt.want, "did not fire")
			}
			// The watchdog would fire again a timeout after the first time at
			// the earliest: two timeouts cover that.
			assert.Never(t, func() bool { return len(fired) > 0 }, 2*timeout, 5*time.Millisecond, "called once")
		})
	}
}

func TestSessionTimeoutMayClose(t *testing.T) {
	a := listen(t)
	done := make(chan error, 1)
	start(t, a, newPeer(t).addr, func(c *SessionConfig) {
		c.Timeout = 20 * time.Millisecond
		c.OnTimeout = func() { done <- a.Close() }
	})
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(2 * time.Second):
		t.Fatal("no timeout, or Close from OnTimeout deadlocked")
	}
}

func TestSessionSymmetricLatch(t *testing.T) {
	a, b, wrong, moved := listen(t), listen(t), newPeer(t), newPeer(t)
	sink := &frameSink{}
	start(t, a, wrong.addr, nil) // the address in a's SDP is not where b is
	start(t, b, a.LocalAddr(), func(c *SessionConfig) { c.Sink = sink })

	require.True(t, b.SendAudioRaw(frame(t, 0, false, make([]int16, wire.FrameSamples))))
	require.Eventually(t, func() bool { return a.Stats().PacketsReceived == 1 }, time.Second, time.Millisecond)

	require.True(t, a.SendAudioRaw(frame(t, 0, false, tone(1000, 8000, 0, wire.FrameSamples))))
	require.Eventually(t, func() bool { return sink.count() == 1 }, time.Second, time.Millisecond)
	assert.True(t, wrong.quiet(30*time.Millisecond), "nothing went to the address in SDP")

	// A re-INVITE with a new address undoes the latch until packets come.
	// The same address again (a re-INVITE for hold) keeps the latch.
	a.Update(wrong.addr, PCMU, DefaultEventPT)
	require.True(t, a.SendAudioRaw(frame(t, 1, false, make([]int16, wire.FrameSamples))))
	require.Eventually(t, func() bool { return sink.count() == 2 }, time.Second, time.Millisecond)
	// A new address undoes the latch until packets come from somewhere.
	a.Update(moved.addr, PCMA, 0)
	require.True(t, a.SendAudioRaw(frame(t, 2, false, make([]int16, wire.FrameSamples))))
	p := moved.read(t, time.Second)
	assert.EqualValues(t, 8, p.PayloadType)
	assert.True(t, wrong.quiet(30*time.Millisecond))
}

func TestSessionIgnoresGarbage(t *testing.T) {
	b, peer := listen(t), newPeer(t)
	sink := &frameSink{}
	start(t, b, peer.addr, func(c *SessionConfig) { c.Sink = sink })
	payload := make([]byte, 160)
	garbage := [][]byte{
		{},
		{0x80},
		[]byte("INVITE sip:bob@example.com SIP/2.0\r\n"),
		make([]byte, 200),                                // version 0
		append([]byte{0x40}, make([]byte, 171)...),       // version 1
		rtpPacket(t, 18, 1, 1, 1, false, payload),        // G.729
		rtpPacket(t, 0, 1, 1, 1, false, nil),             // empty
		{0x8F, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1},          // 15 CSRCs missing
		{0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 9}, // truncated extension
		{0xA0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 5, 0},    // padding longer than the packet
		rtpPacket(t, DefaultEventPT, 1, 1, 1, false, []byte{200, 0, 0, 0}),
	}
	for _, g := range garbage {
		peer.send(t, b.LocalAddr(), g)
	}
	require.Eventually(t, func() bool { return b.Stats().Invalid >= uint64(len(garbage))-1 }, time.Second, time.Millisecond, "%+v", b.Stats())
	assert.Zero(t, sink.count())

	// The session still works.
	peer.send(t, b.LocalAddr(), rtpPacket(t, 0, 1, 2, 1000, true, payload))
	require.Eventually(t, func() bool { return sink.count() == 1 }, time.Second, time.Millisecond)
}

func TestSessionLifecycle(t *testing.T) {
	base := runtime.NumGoroutine()

	s, err := Listen(loopback, 0, 0)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, s.Start(ctx, SessionConfig{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: PCMU, EventPT: DefaultEventPT}))
	require.ErrorIs(t, s.Start(ctx, SessionConfig{Codec: PCMU}), ErrStarted)
	require.NoError(t, s.SendDTMF('1'))
	cancel() // the context ends the session
	require.Eventually(t, func() bool { return !s.SendAudioRaw(frame(t, 0, false, []int16{1})) }, time.Second, time.Millisecond)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "idempotent")
	require.ErrorIs(t, s.Start(context.Background(), SessionConfig{Codec: PCMU}), ErrClosed)

	s2, err := Listen(loopback, 0, 0)
	require.NoError(t, err)
	require.NoError(t, s2.Close(), "before Start")
	require.NoError(t, s2.Close())

	waitGoroutines(t, base)
}

func TestDirectionBeforeStart(t *testing.T) {
	a, peer := listen(t), newPeer(t)
	a.SetDirection(RecvOnly)
	start(t, a, peer.addr, nil)
	assert.False(t, a.SendAudioRaw(frame(t, 0, false, []int16{1})), "the direction set before Start holds")
}

func TestStartRejectsCodec(t *testing.T) {
	s := listen(t)
	require.ErrorIs(t, s.Start(context.Background(), SessionConfig{Codec: Codec{"G729", 18}}), ErrUnsupportedCodec)
}

func TestListen(t *testing.T) {
	s := listen(t)
	assert.Equal(t, loopback, s.LocalAddr().Addr())
	assert.NotZero(t, s.LocalAddr().Port())

	// A small range: every port even, and ErrNoPort when all are taken.
	base := s.LocalAddr().Port() &^ 1
	if base > 60000 {
		base = 40000
	}
	lo, hi := int(base)+10, int(base)+15 // three even ports
	var got []*Session
	for {
		x, err := Listen(loopback, lo, hi)
		if err != nil {
			require.ErrorIs(t, err, ErrNoPort)
			break
		}
		t.Cleanup(func() { _ = x.Close() })
		p := int(x.LocalAddr().Port())
		assert.Zero(t, p%2, "even port")
		assert.True(t, p >= lo && p <= hi)
		got = append(got, x)
		require.LessOrEqual(t, len(got), 3)
	}
	assert.NotEmpty(t, got)

	for _, r := range [][2]int{{5, 4}, {0, 10}, {7, 7}, {1, 70000}} {
		_, err := Listen(loopback, r[0], r[1])
		require.ErrorIs(t, err, ErrNoPort, "%v", r)
	}
}
