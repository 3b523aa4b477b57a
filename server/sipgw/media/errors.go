package media

import "errors"

// Errors of the package, usable with errors.Is. Returned errors wrap them
// with detail.
var (
	// ErrBadSDP: a session description that cannot be parsed or produced.
	ErrBadSDP = errors.New("media: bad SDP")
	// ErrNoAudio: a session description without a usable audio stream.
	ErrNoAudio = errors.New("media: no audio stream in SDP")
	// ErrNoCommonCodec: none of the offered codecs is supported.
	ErrNoCommonCodec = errors.New("media: no common codec")
	// ErrBadEvent: a telephone-event that is malformed or not a DTMF digit.
	ErrBadEvent = errors.New("media: bad telephone-event")
	// ErrNoPort: every port of the range is in use.
	ErrNoPort = errors.New("media: no free RTP port")
	// ErrUnsupportedCodec: a codec other than PCMU or PCMA.
	ErrUnsupportedCodec = errors.New("media: unsupported codec")
	// ErrClosed: the session has been closed.
	ErrClosed = errors.New("media: session closed")
	// ErrNotStarted: Start has not been called.
	ErrNotStarted = errors.New("media: session not started")
	// ErrStarted: Start has been called before.
	ErrStarted = errors.New("media: session already started")
	// ErrNotSending: the direction does not let us send, or the far end
	// takes no telephone-events.
	ErrNotSending = errors.New("media: not sending")
	// ErrQueueFull: too many digits are waiting to be sent.
	ErrQueueFull = errors.New("media: DTMF queue full")
)
