package media

import (
	"encoding/binary"
	"fmt"
)

// Event is one RFC 4733 telephone-event payload, limited to DTMF: Digit is
// '0'-'9', '*', '#' or 'A'-'D'. Duration is in samples (8 kHz) since the
// event's RTP timestamp; Volume is the power in -dBm0 (0-63).
type Event struct {
	Digit    byte
	End      bool
	Volume   uint8
	Duration uint16
}

// EventSize is the length of an event payload.
const EventSize = 4

// maxVolume is the largest volume that fits in the field's six bits.
const maxVolume = 63

const eventEndBit = 0x80

// eventCode maps a DTMF digit to its RFC 4733 event code.
func eventCode(digit byte) (byte, bool) {
	switch {
	case digit >= '0' && digit <= '9':
		return digit - '0', true
	case digit == '*':
		return 10, true
	case digit == '#':
		return 11, true
	case digit >= 'A' && digit <= 'D':
		return digit - 'A' + 12, true
	case digit >= 'a' && digit <= 'd':
		return digit - 'a' + 12, true
	}
	return 0, false
}

const eventDigits = "0123456789*#ABCD"

// ValidDigit reports whether d can be sent as a DTMF event.
func ValidDigit(d byte) bool { _, ok := eventCode(d); return ok }

// EncodeEvent appends e's payload to dst (RFC 4733 section 2.3):
//
//	event (8) | E (1) R (1) volume (6) | duration (16, big-endian)
func EncodeEvent(dst []byte, e Event) ([]byte, error) {
	code, ok := eventCode(e.Digit)
	if !ok {
		return dst, fmt.Errorf("%w: digit %q is not DTMF", ErrBadEvent, e.Digit)
	}
	if e.Volume > maxVolume {
		return dst, fmt.Errorf("%w: volume %d over %d", ErrBadEvent, e.Volume, maxVolume)
	}
	flags := e.Volume
	if e.End {
		flags |= eventEndBit
	}
	dst = append(dst, code, flags)
	return binary.BigEndian.AppendUint16(dst, e.Duration), nil
}

// DecodeEvent parses the first event of a telephone-event payload. Events
// other than the 16 DTMF tones (flash, modem tones) are ErrBadEvent.
func DecodeEvent(payload []byte) (Event, error) {
	if len(payload) < EventSize {
		return Event{}, fmt.Errorf("%w: %d bytes, want %d", ErrBadEvent, len(payload), EventSize)
	}
	if int(payload[0]) >= len(eventDigits) {
		return Event{}, fmt.Errorf("%w: event %d is not DTMF", ErrBadEvent, payload[0])
	}
	return Event{
		Digit:    eventDigits[payload[0]],
		End:      payload[1]&eventEndBit != 0,
		Volume:   payload[1] & maxVolume, // the R bit is ignored, as RFC 4733 asks
		Duration: binary.BigEndian.Uint16(payload[2:]),
	}, nil
}
