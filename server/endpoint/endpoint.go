package endpoint

// AudioSink takes encoded wire audio frames (header and samples, as on the
// wire). SendAudioRaw must not block and owns raw afterwards; it reports
// whether the frame was taken. *wire.Conn is one: relaying a frame to the
// other party is a single SendAudioRaw on its connection.
type AudioSink interface {
	SendAudioRaw(raw []byte) bool
}

// Endpoint is a far end the server itself provides: an echo, an IVR, or (as
// the server adapts it) a trunk call. Its SendAudioRaw receives the caller's
// audio on the caller's reader goroutine; the other methods are called by
// the server's registry goroutine and must not block.
type Endpoint interface {
	AudioSink
	// DTMF is a digit (0-9, *, #) the caller pressed.
	DTMF(digit byte)
	// Hold pauses (true) or resumes (false) what the endpoint sends.
	Hold(on bool)
	// Close ends the endpoint; nothing is sent afterwards.
	Close()
}
