package media

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventLayout(t *testing.T) {
	tests := []struct {
		name string
		e    Event
		want []byte
	}{
		// RFC 4733 section 2.3: event, E|R|volume, duration big-endian.
		{"digit 5 start", Event{Digit: '5', Volume: 10, Duration: 160}, []byte{5, 10, 0x00, 0xA0}},
		{"star end", Event{Digit: '*', End: true, Volume: 10, Duration: 800}, []byte{10, 0x8A, 0x03, 0x20}},
		{"hash", Event{Digit: '#', Volume: 63, Duration: 0xFFFF}, []byte{11, 63, 0xFF, 0xFF}},
		{"A", Event{Digit: 'A'}, []byte{12, 0, 0, 0}},
		{"D end", Event{Digit: 'D', End: true}, []byte{15, 0x80, 0, 0}},
		{"zero", Event{Digit: '0', Volume: 7, Duration: 1}, []byte{0, 7, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeEvent([]byte{0xEE}, tt.e)
			require.NoError(t, err)
			assert.Equal(t, append([]byte{0xEE}, tt.want...), got)
			back, err := DecodeEvent(tt.want)
			require.NoError(t, err)
			assert.Equal(t, tt.e, back)
		})
	}
}

func TestEventRoundTripAllDigits(t *testing.T) {
	for _, d := range []byte("0123456789*#ABCD") {
		for _, end := range []bool{false, true} {
			e := Event{Digit: d, End: end, Volume: 12, Duration: 480}
			b, err := EncodeEvent(nil, e)
			require.NoError(t, err)
			got, err := DecodeEvent(b)
			require.NoError(t, err)
			assert.Equal(t, e, got)
		}
	}
}

func TestEventBadInput(t *testing.T) {
	encode := []struct {
		name string
		e    Event
	}{
		{"letter", Event{Digit: 'E'}},
		{"number value not char", Event{Digit: 5}},
		{"space", Event{Digit: ' '}},
		{"volume", Event{Digit: '1', Volume: 64}},
	}
	for _, tt := range encode {
		t.Run("encode "+tt.name, func(t *testing.T) {
			b, err := EncodeEvent([]byte{1}, tt.e)
			require.ErrorIs(t, err, ErrBadEvent)
			assert.Equal(t, []byte{1}, b, "nothing appended")
		})
	}
	decode := []struct {
		name    string
		payload []byte
	}{
		{"empty", nil},
		{"short", []byte{1, 2, 3}},
		{"flash", []byte{16, 0, 0, 0}},
		{"modem tone", []byte{32, 0x80, 0, 160}},
		{"max", []byte{255, 255, 255, 255}},
	}
	for _, tt := range decode {
		t.Run("decode "+tt.name, func(t *testing.T) {
			_, err := DecodeEvent(tt.payload)
			require.ErrorIs(t, err, ErrBadEvent)
		})
	}
}

func TestEventReservedBitIgnored(t *testing.T) {
	e, err := DecodeEvent([]byte{1, 0x40 | 0x80 | 5, 0, 80})
	require.NoError(t, err)
	assert.Equal(t, Event{Digit: '1', End: true, Volume: 5, Duration: 80}, e)
}
