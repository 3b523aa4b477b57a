package media

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exported drops what Parse keeps for Answer, to compare descriptions.
func exported(d Description) Description {
	d.others, d.audio = nil, 0
	return d
}

func readSDP(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sdp", name))
	require.NoError(t, err)
	return b
}

func TestParseRealWorld(t *testing.T) {
	tests := []struct {
		file string
		want Description
	}{
		{"baresip.sdp", Description{
			Addr:      netip.MustParseAddrPort("192.168.1.10:10372"),
			Codecs:    []Codec{{"G722", 9}, PCMU, PCMA}, // opus/48000 is not 8 kHz
			EventPT:   101,
			Direction: SendRecv,
			PTime:     20,
		}},
		{"asterisk.sdp", Description{
			Addr:      netip.MustParseAddrPort("203.0.113.5:17238"),
			Codecs:    []Codec{PCMA, PCMU, {"GSM", 3}},
			EventPT:   101,
			Direction: SendRecv,
			PTime:     20,
		}},
		{"linphone.sdp", Description{ // c= at session level, several telephone-events
			Addr:      netip.MustParseAddrPort("10.0.0.20:7078"),
			Codecs:    []Codec{{"SPEEX", 98}, PCMU, PCMA, {"G729", 18}},
			EventPT:   100,
			Direction: SendRecv,
		}},
		{"static-pcmu.sdp", Description{
			Addr:      netip.MustParseAddrPort("198.51.100.7:4000"),
			Codecs:    []Codec{PCMU},
			Direction: SendRecv,
		}},
		{"hold-sendonly.sdp", Description{
			Addr:      netip.MustParseAddrPort("203.0.113.5:17238"),
			Codecs:    []Codec{PCMU},
			EventPT:   101,
			Direction: SendOnly,
			PTime:     20,
		}},
		{"g729-only.sdp", Description{
			Addr:      netip.MustParseAddrPort("192.0.2.50:30000"),
			Codecs:    []Codec{{"G729", 18}},
			EventPT:   101,
			Direction: SendRecv,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d, err := Parse(readSDP(t, tt.file))
			require.NoError(t, err)
			assert.Equal(t, tt.want, exported(d))
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		sdp  string
		want error
	}{
		{"video only", string(readSDP(t, "video-only.sdp")), ErrNoAudio},
		{"garbage", "hello world", ErrBadSDP},
		{"empty", "", ErrBadSDP},
		{"no connection", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", ErrBadSDP},
		{"hostname connection", "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 pbx.example.com\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", ErrBadSDP},
		{"srtp only", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n", ErrNoAudio},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.sdp))
			require.ErrorIs(t, err, tt.want)
		})
	}
}

const sdpHead = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"

func TestParseDetails(t *testing.T) {
	tests := []struct {
		name string
		sdp  string
		want Description
	}{
		{
			"session-level direction, media-level connection",
			sdpHead + "c=IN IP4 192.0.2.1\r\nt=0 0\r\na=recvonly\r\nm=audio 4000 RTP/AVP 8\r\nc=IN IP4 192.0.2.2\r\n",
			Description{Addr: netip.MustParseAddrPort("192.0.2.2:4000"), Codecs: []Codec{PCMA}, Direction: RecvOnly},
		},
		{
			"media-level direction overrides",
			sdpHead + "c=IN IP4 192.0.2.1\r\nt=0 0\r\na=sendonly\r\nm=audio 4000 RTP/AVP 0\r\na=inactive\r\n",
			Description{Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Codecs: []Codec{PCMU}, Direction: Inactive},
		},
		{
			"RFC 2543 hold with 0.0.0.0",
			sdpHead + "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
			Description{Addr: netip.MustParseAddrPort("0.0.0.0:4000"), Codecs: []Codec{PCMU}, Direction: SendOnly},
		},
		{
			"telephone-event without digits",
			sdpHead + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 16\r\n",
			Description{Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Codecs: []Codec{PCMU}, Direction: SendRecv},
		},
		{
			"telephone-event without fmtp, dynamic PCMU, CN skipped, session ptime",
			sdpHead + "c=IN IP4 192.0.2.1\r\nt=0 0\r\na=ptime:30\r\nm=audio 4000 RTP/AVP 96 13 110\r\na=rtpmap:96 pcmu/8000\r\na=rtpmap:110 telephone-event/8000\r\n",
			Description{Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Codecs: []Codec{{"PCMU", 96}}, EventPT: 110, Direction: SendRecv, PTime: 30},
		},
		{
			"IPv6 and LF line ends",
			"v=0\no=- 1 1 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::1\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
			Description{Addr: netip.MustParseAddrPort("[2001:db8::1]:4000"), Codecs: []Codec{PCMU}, Direction: SendRecv},
		},
		{
			"disabled first audio stream, second used",
			sdpHead + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\nm=audio 5000 RTP/AVP 8\r\n",
			Description{Addr: netip.MustParseAddrPort("192.0.2.1:5000"), Codecs: []Codec{PCMA}, Direction: SendRecv},
		},
		{
			"rejected audio stream",
			sdpHead + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n",
			Description{Addr: netip.MustParseAddrPort("192.0.2.1:0"), Codecs: []Codec{PCMU}, Direction: SendRecv},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.sdp))
			require.NoError(t, err)
			assert.Equal(t, tt.want, exported(d))
		})
	}
}

func TestOfferParsesBack(t *testing.T) {
	tests := []struct {
		name string
		d    Description
		want Description
	}{
		{"full", Description{
			Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Codecs: []Codec{PCMU, PCMA},
			EventPT: DefaultEventPT, Direction: SendRecv, PTime: 20,
		}, Description{
			Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Codecs: []Codec{PCMU, PCMA},
			EventPT: DefaultEventPT, Direction: SendRecv, PTime: 20,
		}},
		{"defaults and hold", Description{
			Addr: netip.MustParseAddrPort("[2001:db8::5]:6000"), Codecs: []Codec{PCMA}, Direction: SendOnly,
		}, Description{
			Addr: netip.MustParseAddrPort("[2001:db8::5]:6000"), Codecs: []Codec{PCMA}, Direction: SendOnly, PTime: 20,
		}},
		{"4in6 address written as IPv4", Description{
			Addr: netip.MustParseAddrPort("[::ffff:192.0.2.3]:4000"), Codecs: []Codec{PCMU},
		}, Description{
			Addr: netip.MustParseAddrPort("192.0.2.3:4000"), Codecs: []Codec{PCMU}, Direction: SendRecv, PTime: 20,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Offer(tt.d, 42, 7)
			require.NoError(t, err)
			assert.Contains(t, string(b), "o=- 42 7 IN ")
			got, err := Parse(b)
			require.NoError(t, err)
			assert.Equal(t, tt.want, exported(got))
		})
	}
}

func TestOfferErrors(t *testing.T) {
	tests := []struct {
		name string
		d    Description
	}{
		{"no codecs", Description{Addr: netip.MustParseAddrPort("192.0.2.1:4000")}},
		{"unspecified address", Description{Addr: netip.MustParseAddrPort("0.0.0.0:4000"), Codecs: []Codec{PCMU}}},
		{"no address", Description{Codecs: []Codec{PCMU}}},
		{"bad direction", Description{Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Codecs: []Codec{PCMU}, Direction: "sideways"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Offer(tt.d, 1, 1)
			require.ErrorIs(t, err, ErrBadSDP)
		})
	}
}

func TestAnswerDirection(t *testing.T) {
	tests := []struct {
		offer, ours, want Direction
	}{
		{SendRecv, SendRecv, SendRecv},
		{SendRecv, SendOnly, SendOnly},
		{SendRecv, RecvOnly, RecvOnly},
		{SendRecv, Inactive, Inactive},
		{SendRecv, "", SendRecv},
		{SendOnly, SendRecv, RecvOnly},
		{SendOnly, SendOnly, Inactive},
		{SendOnly, RecvOnly, RecvOnly},
		{RecvOnly, SendRecv, SendOnly},
		{RecvOnly, RecvOnly, Inactive},
		{RecvOnly, SendOnly, SendOnly},
		{Inactive, SendRecv, Inactive},
		{Inactive, SendOnly, Inactive},
		{"", SendRecv, SendRecv},
	}
	local := netip.MustParseAddrPort("192.0.2.99:20000")
	for _, tt := range tests {
		t.Run(string(tt.offer)+"/"+string(tt.ours), func(t *testing.T) {
			offer := Description{Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Codecs: []Codec{PCMU}, Direction: tt.offer}
			ans, b, err := Answer(offer, local, []Codec{PCMU}, tt.ours, 1, 1)
			require.NoError(t, err)
			assert.Equal(t, tt.want, ans.Direction)
			back, err := Parse(b)
			require.NoError(t, err)
			assert.Equal(t, tt.want, back.Direction)
		})
	}
}

func TestAnswerRealWorld(t *testing.T) {
	local := netip.MustParseAddrPort("192.0.2.99:20000")
	supported := []Codec{PCMU, PCMA}
	tests := []struct {
		file    string
		dir     Direction
		want    Description
		wantErr error
	}{
		{"baresip.sdp", SendRecv, Description{Addr: local, Codecs: []Codec{PCMU}, EventPT: 101, Direction: SendRecv, PTime: 20}, nil},
		{"asterisk.sdp", SendRecv, Description{Addr: local, Codecs: []Codec{PCMA}, EventPT: 101, Direction: SendRecv, PTime: 20}, nil},
		{"linphone.sdp", SendRecv, Description{Addr: local, Codecs: []Codec{PCMU}, EventPT: 100, Direction: SendRecv, PTime: 20}, nil},
		{"static-pcmu.sdp", SendRecv, Description{Addr: local, Codecs: []Codec{PCMU}, Direction: SendRecv, PTime: 20}, nil},
		{"hold-sendonly.sdp", SendRecv, Description{Addr: local, Codecs: []Codec{PCMU}, EventPT: 101, Direction: RecvOnly, PTime: 20}, nil},
		{"g729-only.sdp", SendRecv, Description{}, ErrNoCommonCodec},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			offer, err := Parse(readSDP(t, tt.file))
			require.NoError(t, err)
			ans, b, err := Answer(offer, local, supported, tt.dir, 9, 2)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, ans)
			back, err := Parse(b)
			require.NoError(t, err)
			assert.Equal(t, tt.want, exported(back))
		})
	}
}

func TestAnswerRejectsOtherStreams(t *testing.T) {
	offer, err := Parse(readSDP(t, "linphone.sdp"))
	require.NoError(t, err)
	_, b, err := Answer(offer, netip.MustParseAddrPort("192.0.2.99:20000"), []Codec{PCMA}, SendRecv, 1, 1)
	require.NoError(t, err)
	s := string(b)
	audio, video := strings.Index(s, "m=audio 20000 RTP/AVP 8 100\r\n"), strings.Index(s, "m=video 0 RTP/AVP 96\r\n")
	require.GreaterOrEqual(t, audio, 0, s)
	require.Greater(t, video, audio, "the video line is rejected in its place:\n%s", s)
}

func TestAnswerErrors(t *testing.T) {
	local := netip.MustParseAddrPort("192.0.2.99:20000")
	ok := Description{Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Codecs: []Codec{PCMU}}
	tests := []struct {
		name      string
		offer     Description
		local     netip.AddrPort
		supported []Codec
		dir       Direction
		want      error
	}{
		{"disabled stream", Description{Addr: netip.MustParseAddrPort("192.0.2.1:0"), Codecs: []Codec{PCMU}}, local, []Codec{PCMU}, SendRecv, ErrNoAudio},
		{"no common codec", ok, local, []Codec{PCMA}, SendRecv, ErrNoCommonCodec},
		{"nothing supported", ok, local, nil, SendRecv, ErrNoCommonCodec},
		{"unsupported we claim", Description{Addr: ok.Addr, Codecs: []Codec{{"G729", 18}}}, local, []Codec{{"G729", 18}}, SendRecv, ErrNoCommonCodec},
		{"bad direction", ok, local, []Codec{PCMU}, "up", ErrBadSDP},
		{"no local address", ok, netip.AddrPort{}, []Codec{PCMU}, SendRecv, ErrBadSDP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Answer(tt.offer, tt.local, tt.supported, tt.dir, 1, 1)
			require.ErrorIs(t, err, tt.want)
		})
	}
}
