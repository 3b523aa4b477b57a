package audio

// Backend names a miniaudio audio backend for NewMalgoDevice and
// ListDevices; the default tries the platform's usual ones in order.
type Backend string

// Backends miniaudio knows. BackendNull is a silent, clocked stand-in that
// works without sound hardware (tests, servers).
const (
	BackendWASAPI      Backend = "wasapi"
	BackendDirectSound Backend = "dsound"
	BackendWinMM       Backend = "winmm"
	BackendCoreAudio   Backend = "coreaudio"
	BackendSndio       Backend = "sndio"
	BackendAudio4      Backend = "audio4"
	BackendOSS         Backend = "oss"
	BackendPulseAudio  Backend = "pulseaudio"
	BackendALSA        Backend = "alsa"
	BackendJACK        Backend = "jack"
	BackendAAudio      Backend = "aaudio"
	BackendOpenSL      Backend = "opensl"
	BackendWebAudio    Backend = "webaudio"
	BackendNull        Backend = "null"
)

// DeviceInfo describes a sound device for a settings screen.
type DeviceInfo struct {
	// ID selects the device in WithCaptureDevice, WithPlaybackDevice and
	// SetPlaybackDevice. It is opaque and stable for a given backend; ""
	// means the system default.
	ID        string
	Name      string
	IsDefault bool // the system default for the roles below
	Capture   bool // usable as a microphone
	Playback  bool // usable as a speaker
}

// MalgoOption configures NewMalgoDevice and ListDevices.
type MalgoOption func(*malgoConfig)

type malgoConfig struct {
	backends   []Backend
	captureID  string
	playbackID string
}

// WithBackends restricts miniaudio to these backends, tried in order.
func WithBackends(b ...Backend) MalgoOption {
	return func(c *malgoConfig) { c.backends = append([]Backend(nil), b...) }
}

// WithCaptureDevice selects the microphone by DeviceInfo.ID ("" = default).
func WithCaptureDevice(id string) MalgoOption { return func(c *malgoConfig) { c.captureID = id } }

// WithPlaybackDevice selects the speaker by DeviceInfo.ID ("" = default).
func WithPlaybackDevice(id string) MalgoOption { return func(c *malgoConfig) { c.playbackID = id } }

func newMalgoConfig(opts []MalgoOption) malgoConfig {
	var c malgoConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}
