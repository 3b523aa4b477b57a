package wire

import "time"

// Audio format of every frame on the wire.
const (
	SampleRate     = 8000 // Hz
	Channels       = 1
	BytesPerSample = 2  // signed 16-bit little-endian
	FrameMillis    = 20 // nominal frame length
	FrameSamples   = SampleRate * FrameMillis / 1000
)

// Size limits. A peer exceeding them is closed with [CloseTooLarge].
const (
	// MaxFrameSamples bounds one audio frame (120 ms).
	MaxFrameSamples = 6 * FrameSamples
	// MaxTextMessage bounds one JSON control message.
	MaxTextMessage = 4 << 10
	// MaxAudioMessage bounds one binary message: an audio frame of
	// MaxFrameSamples. A longer one (up to MaxMessage) is malformed audio:
	// dropped and counted, not answered.
	MaxAudioMessage = AudioHeaderSize + MaxFrameSamples*BytesPerSample
	// MaxMessage is the WebSocket read limit: the larger of the two kinds.
	// A message over it closes the connection with CloseTooLarge.
	MaxMessage = max(MaxTextMessage, MaxAudioMessage)
	// MaxHeaderBytes bounds an HTTP request's headers (the server answers
	// a larger request 431).
	MaxHeaderBytes = 16 << 10
	// MaxNumberLen bounds phone numbers, DIDs and registered numbers.
	MaxNumberLen = 32
	// MaxNameLen bounds display names and free text fields.
	MaxNameLen = 128
)

// Keep-alive timing: each side pings every PingPeriod and drops a peer that has
// not answered (any read counts) within PongWait.
const (
	WriteWait  = 5 * time.Second
	PongWait   = 30 * time.Second
	PingPeriod = PongWait * 8 / 10
)

// Protocol timers.
const (
	// StartTimeout bounds the wait for the first message on /v1/call.
	StartTimeout = 10 * time.Second
	// ReplyTimeout bounds the SDK's wait for an ack to a request with a Ref.
	ReplyTimeout = 3 * time.Second
	// DefaultRingTimeout is how long a call rings before failing no_answer.
	DefaultRingTimeout = 45 * time.Second
	// MaxDrain bounds how long a draining server lets live calls go on
	// (the ms of a [TypeDraining] message).
	MaxDrain = time.Hour
)
