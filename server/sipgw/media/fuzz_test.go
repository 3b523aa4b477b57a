package media

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/pion/rtp"

	"github.com/onecxi/phone/wire"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "sdp", "*.sdp"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(sdpHead + "c=IN IP4 0.0.0.0\r\nt=0 0\r\na=sendonly\r\nm=audio 4000 RTP/AVP 96 101\r\na=rtpmap:96 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\na=ptime:30\r\n"))
	f.Add([]byte("v=0\no=- 1 1 IN IP6 ::1\ns=-\nc=IN IP6 ::1\nt=0 0\nm=audio 0 RTP/AVP 0\nm=audio 5 RTP/SAVP 8\n"))
	local := netip.MustParseAddrPort("192.0.2.99:20000")
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrBadSDP) && !errors.Is(err, ErrNoAudio) {
				t.Fatalf("error %v wraps neither ErrBadSDP nor ErrNoAudio", err)
			}
			return
		}
		if !d.Direction.Valid() || d.audio >= len(d.others) {
			t.Fatalf("parsed %+v", d)
		}
		for _, c := range d.Codecs {
			if c.PayloadType > maxPT || c.Name == "" {
				t.Fatalf("codec %+v", c)
			}
		}
		// Whatever parses can be answered, or refused with a typed error,
		// and the answer parses back to itself.
		ans, out, err := Answer(d, local, []Codec{PCMU, PCMA}, SendRecv, 1, 1)
		if err != nil {
			if !errors.Is(err, ErrNoAudio) && !errors.Is(err, ErrNoCommonCodec) && !errors.Is(err, ErrBadSDP) {
				t.Fatalf("answer error %v is not typed", err)
			}
			return
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, out)
		}
		if back.Addr != ans.Addr || len(back.Codecs) != 1 || back.Codecs[0] != ans.Codecs[0] ||
			back.EventPT != ans.EventPT || back.Direction != ans.Direction {
			t.Fatalf("answer %+v parses back as %+v\n%s", ans, exported(back), out)
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte{5, 0x8A, 0x03, 0x20})
	f.Add([]byte{11, 10, 0, 160})
	f.Add([]byte{16, 0, 0, 0})
	f.Add([]byte{1, 2})
	f.Add([]byte{1, 0x40, 0, 0, 9, 9, 9, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEvent(b)
		if err != nil {
			if !errors.Is(err, ErrBadEvent) {
				t.Fatalf("error %v does not wrap ErrBadEvent", err)
			}
			return
		}
		out, err := EncodeEvent(nil, e)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", e, err)
		}
		want := []byte{b[0], b[1] &^ 0x40, b[2], b[3]} // the R bit is not kept
		if !bytes.Equal(out, want) {
			t.Fatalf("%x -> %+v -> %x", b[:4], e, out)
		}
	})
}

// checkSink fails the fuzz run on a frame that is not a valid wire frame.
type checkSink struct{ t *testing.T }

func (k checkSink) SendAudioRaw(raw []byte) bool {
	if err := wire.CheckAudio(raw); err != nil {
		k.t.Fatalf("sink got a bad frame: %v", err)
	}
	return true
}

func FuzzHandlePacket(f *testing.F) {
	add := func(h rtp.Header, payload []byte) {
		b, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, b)
	}
	add(rtp.Header{Version: 2, SequenceNumber: 1, Timestamp: 1, SSRC: 1}, make([]byte, 160))
	add(rtp.Header{Version: 2, PayloadType: DefaultEventPT, SequenceNumber: 2, Timestamp: 1, SSRC: 1}, []byte{1, 0x80, 0, 160})
	add(rtp.Header{Version: 2, Marker: true, SequenceNumber: 65535, SSRC: 2, CSRC: []uint32{1, 2}}, make([]byte, 1500))
	f.Add([]byte{0xA0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xFF, 2}, []byte{0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0, 0, 0xFF})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		got := &digits{}
		s := &Session{closed: make(chan struct{})}
		s.configure(SessionConfig{Remote: farEnd, Codec: PCMU, EventPT: DefaultEventPT, Sink: checkSink{t}, OnDTMF: got.add, Log: quietLog})
		// Two datagrams, so sequence tracking sees a relation.
		s.handlePacket(a, farEnd)
		s.handlePacket(b, netip.MustParseAddrPort("198.51.100.1:7"))
		s.handlePacket(a, farEnd)
		for _, d := range []byte(got.String()) {
			if !ValidDigit(d) {
				t.Fatalf("reported digit %q", d)
			}
		}
	})
}
