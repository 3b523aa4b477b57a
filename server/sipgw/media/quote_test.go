package media

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

// An SDP from the network with a huge bad value is refused with a short
// error.
func TestSDPErrorsQuoteShort(t *testing.T) {
	long := strings.Repeat("7", 60<<10)
	tests := []struct{ name, sdp, keep string }{
		{"connection address", sdpHead + "c=IN IP4 " + long + "\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", "connection address"},
		{"bandwidth", sdpHead + "c=IN IP4 192.0.2.1\r\nb=" + long + "\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", "sdp"},
		{"connection network type", sdpHead + "c=" + long + " IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", "sdp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.sdp))
			require.ErrorIs(t, err, ErrBadSDP)
			assert.Less(t, len(err.Error()), 200, "%s", wire.Quote(err.Error()))
			assert.Contains(t, err.Error(), tt.keep)
		})
	}

	offer, err := Parse([]byte(sdpHead + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 " + long + "/8000\r\n"))
	require.NoError(t, err)
	_, _, err = Answer(offer, netip.MustParseAddrPort("192.0.2.2:5000"), []Codec{PCMU}, SendRecv, 1, 1)
	require.ErrorIs(t, err, ErrNoCommonCodec)
	assert.Less(t, len(err.Error()), 200, "%s", wire.Quote(err.Error()))
}
