package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/dsp"
)

// wavSpec describes a WAV file to build, including broken ones.
type wavSpec struct {
	tag      uint16
	channels uint16
	rate     uint32
	bits     uint16
	align    uint16 // 0: channels*bits/8
	before   []chunk
	between  []chunk
	data     []byte
	dataSize int64 // -1: len(data)
}

type chunk struct {
	id   string
	body []byte
}

func appendChunk(b []byte, c chunk) []byte {
	b = append(b, c.id...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(c.body)))
	b = append(b, c.body...)
	if len(c.body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func (s wavSpec) bytes() []byte {
	align := s.align
	if align == 0 {
		align = s.channels * s.bits / 8
	}
	var fmtBody []byte
	fmtBody = binary.LittleEndian.AppendUint16(fmtBody, s.tag)
	fmtBody = binary.LittleEndian.AppendUint16(fmtBody, s.channels)
	fmtBody = binary.LittleEndian.AppendUint32(fmtBody, s.rate)
	fmtBody = binary.LittleEndian.AppendUint32(fmtBody, s.rate*uint32(align))
	fmtBody = binary.LittleEndian.AppendUint16(fmtBody, align)
	fmtBody = binary.LittleEndian.AppendUint16(fmtBody, s.bits)
	if s.tag == wavFormatExtensible {
		fmtBody = binary.LittleEndian.AppendUint16(fmtBody, 22)
		fmtBody = binary.LittleEndian.AppendUint16(fmtBody, s.bits)
		fmtBody = binary.LittleEndian.AppendUint32(fmtBody, 4) // channel mask
		fmtBody = binary.LittleEndian.AppendUint16(fmtBody, wavFormatPCM)
		fmtBody = append(fmtBody, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71)
	}
	body := []byte("WAVE")
	for _, c := range s.before {
		body = appendChunk(body, c)
	}
	body = appendChunk(body, chunk{"fmt ", fmtBody})
	for _, c := range s.between {
		body = appendChunk(body, c)
	}
	body = append(body, "data"...)
	size := s.dataSize
	if size < 0 {
		size = int64(len(s.data))
	}
	body = binary.LittleEndian.AppendUint32(body, uint32(size))
	body = append(body, s.data...)
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}

func pcmBytes(samples ...[]int16) []byte {
	var b []byte
	for i := range samples[0] {
		for _, ch := range samples {
			b = binary.LittleEndian.AppendUint16(b, uint16(ch[i]))
		}
	}
	return b
}

// sineAt generates a sine at an arbitrary sample rate.
func sineAt(rate, freq, amp float64, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.MaxInt16 * math.Sin(2*math.Pi*freq*float64(i)/rate))
	}
	return out
}

func toneSamples(freq, amp float64, n int) []int16 {
	out := make([]int16, n)
	(&dsp.Tone{Freq: freq, Amplitude: amp}).Fill(out)
	return out
}

func TestWAVRoundTrip(t *testing.T) {
	in := toneSamples(440, 0.5, 8000)
	in = append(in, math.MaxInt16, math.MinInt16, 0, -1)
	var buf bytes.Buffer
	require.NoError(t, WriteWAV(&buf, in))
	assert.Equal(t, 44+2*len(in), buf.Len())
	out, err := ReadWAV(&buf)
	require.NoError(t, err)
	assert.Equal(t, in, out)
}

func TestReadWAVConvertsToNarrowbandMono(t *testing.T) {
	const seconds = 1
	tests := []struct {
		name     string
		rate     float64
		channels int
		freq     float64
	}{
		{"8k mono", 8000, 1, 1000},
		{"8k stereo", 8000, 2, 1000},
		{"11025 mono", 11025, 1, 700},
		{"16k mono", 16000, 1, 1000},
		{"22050 stereo", 22050, 2, 440},
		{"44100 mono", 44100, 1, 1000},
		{"48k stereo", 48000, 2, 3000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := int(tt.rate) * seconds
			ch := sineAt(tt.rate, tt.freq, 0.5, n)
			chans := [][]int16{ch}
			if tt.channels == 2 {
				chans = append(chans, ch)
			}
			file := wavSpec{tag: 1, channels: uint16(tt.channels), rate: uint32(tt.rate), bits: 16,
				data: pcmBytes(chans...), dataSize: -1}.bytes()
			out, err := ReadWAV(bytes.NewReader(file))
			require.NoError(t, err)
			assert.InDelta(t, SampleRate*seconds, len(out), 1)
			// Skip the filter's start-up edge.
			body := out[100 : len(out)-100]
			assert.Greater(t, dsp.ToneShare(body, tt.freq), 0.95)
			assert.InDelta(t, 0.125, dsp.Energy(body), 0.01, "level kept")
		})
	}
}

func TestReadWAVRejectsAliases(t *testing.T) {
	// Without the low-pass these would fold to 2 kHz and 3.1 kHz.
	for _, tt := range []struct {
		rate, freq float64
	}{{48000, 6000}, {44100, 4900 + 200}, {16000, 5000}} {
		in := sineAt(tt.rate, tt.freq, 0.5, int(tt.rate))
		file := wavSpec{tag: 1, channels: 1, rate: uint32(tt.rate), bits: 16, data: pcmBytes(in), dataSize: -1}.bytes()
		out, err := ReadWAV(bytes.NewReader(file))
		require.NoError(t, err)
		body := out[100 : len(out)-100]
		assert.Less(t, dsp.Energy(body), 0.125*1e-4, "%v Hz at %v Hz must be at least 40 dB down", tt.freq, tt.rate)
	}
}

func TestReadWAVDownmixesStereo(t *testing.T) {
	l := toneSamples(440, 0.4, 1600)
	r := toneSamples(1000, 0.4, 1600)
	file := wavSpec{tag: 1, channels: 2, rate: 8000, bits: 16, data: pcmBytes(l, r), dataSize: -1}.bytes()
	out, err := ReadWAV(bytes.NewReader(file))
	require.NoError(t, err)
	require.Len(t, out, 1600)
	assert.InDelta(t, 0.5, dsp.ToneShare(out, 440), 0.05)
	assert.InDelta(t, 0.5, dsp.ToneShare(out, 1000), 0.05)
	assert.Equal(t, int16((int32(l[7])+int32(r[7]))/2), out[7])
}

func TestReadWAVSkipsOtherChunks(t *testing.T) {
	in := toneSamples(440, 0.3, 800)
	spec := wavSpec{
		tag: wavFormatExtensible, channels: 1, rate: 8000, bits: 16,
		before:  []chunk{{"JUNK", make([]byte, 27)}}, // odd: padded
		between: []chunk{{"LIST", []byte("INFOISFT\x05\x00\x00\x00Lavf\x00")}, {"fact", []byte{1, 2, 3, 4}}},
		data:    pcmBytes(in), dataSize: -1,
	}
	file := append(spec.bytes(), appendChunk(nil, chunk{"LIST", []byte("trailing")})...)
	out, err := ReadWAV(bytes.NewReader(file))
	require.NoError(t, err)
	assert.Equal(t, in, out)
}

func TestReadWAVErrors(t *testing.T) {
	good := wavSpec{tag: 1, channels: 1, rate: 8000, bits: 16, data: pcmBytes(toneSamples(440, 0.3, 160)), dataSize: -1}
	with := func(f func(*wavSpec)) []byte { s := good; f(&s); return s.bytes() }
	fmtOnly := good.bytes()[:12+8+16]
	tests := []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"not riff", []byte("RIFX\x00\x00\x00\x00WAVE")},
		{"not wave", []byte("RIFF\x00\x00\x00\x00AVI ")},
		{"truncated header", good.bytes()[:20]},
		{"truncated fmt", good.bytes()[:30]},
		{"no data chunk", fmtOnly},
		{"truncated data", good.bytes()[:len(good.bytes())-3]},
		{"8-bit", with(func(s *wavSpec) { s.bits = 8 })},
		{"24-bit", with(func(s *wavSpec) { s.bits = 24 })},
		{"float", with(func(s *wavSpec) { s.tag = 3; s.bits = 32 })},
		{"adpcm", with(func(s *wavSpec) { s.tag = 2 })},
		{"mu-law", with(func(s *wavSpec) { s.tag = 7; s.bits = 8 })},
		{"three channels", with(func(s *wavSpec) { s.channels = 3 })},
		{"zero channels", with(func(s *wavSpec) { s.channels = 0; s.align = 2 })},
		{"odd rate", with(func(s *wavSpec) { s.rate = 12345 })},
		{"zero rate", with(func(s *wavSpec) { s.rate = 0 })},
		{"bad block align", with(func(s *wavSpec) { s.align = 3 })},
		{"huge data", with(func(s *wavSpec) { s.dataSize = MaxWAVData + 2 })},
		{"absurd data", with(func(s *wavSpec) { s.dataSize = math.MaxUint32 })},
		{"data before fmt", []byte("RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00\x01\x00")},
		{"tiny fmt", []byte("RIFF\x00\x00\x00\x00WAVEfmt \x04\x00\x00\x00\x01\x00\x01\x00")},
		{"huge fmt", []byte("RIFF\x00\x00\x00\x00WAVEfmt \x00\x00\x01\x00")},
		{"chunk beyond end", []byte("RIFF\x00\x00\x00\x00WAVELIST\xff\xff\xff\x7fabc")},
		{"two fmt", with(func(s *wavSpec) { s.between = []chunk{{"fmt ", good.bytes()[20:36]}} })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ReadWAV(bytes.NewReader(tt.file))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrBadWAV)
			assert.Nil(t, out)
		})
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestReadWAVKeepsReaderErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := ReadWAV(io.MultiReader(bytes.NewReader([]byte("RIFF\x00\x00\x00\x00WAVE")), failingReader{boom}))
	assert.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, ErrBadWAV)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

func TestWriteWAVReportsWriterErrors(t *testing.T) {
	assert.ErrorIs(t, WriteWAV(failingWriter{}, []int16{1, 2}), io.ErrShortWrite)
}

func TestResampleEdgeCases(t *testing.T) {
	assert.Nil(t, Resample([]int16{1}, 0))
	assert.Nil(t, Resample([]int16{1}, -8000))
	assert.Nil(t, Resample([]int16{1}, 1e9))
	assert.Empty(t, Resample(nil, 44100))
	assert.Equal(t, []int16{5}, Resample([]int16{5}, 8000))
	// Upsampling 4 kHz interpolates: every other output is a midpoint.
	assert.Equal(t, []int16{0, 50, 100, 150, 200}, Resample([]int16{0, 100, 200}, 4000))
	// DC passes through a downsampler at unity gain (away from the edges).
	dc := make([]int16, 4800)
	for i := range dc {
		dc[i] = 1000
	}
	out := Resample(dc, 48000)
	require.Len(t, out, 800)
	assert.InDelta(t, 1000, out[400], 1)
}

func FuzzReadWAV(f *testing.F) {
	var good bytes.Buffer
	require.NoError(f, WriteWAV(&good, toneSamples(440, 0.5, 320)))
	for _, n := range []int{0, 4, 12, 20, 36, 44, 45, good.Len() - 1, good.Len()} {
		f.Add(good.Bytes()[:n])
	}
	stereo := wavSpec{tag: 1, channels: 2, rate: 44100, bits: 16, data: pcmBytes(sineAt(44100, 1000, 0.5, 441), sineAt(44100, 500, 0.5, 441)), dataSize: -1,
		before: []chunk{{"LIST", []byte("odd")}}}
	f.Add(stereo.bytes())
	f.Add(wavSpec{tag: wavFormatExtensible, channels: 1, rate: 16000, bits: 16, data: pcmBytes(sineAt(16000, 1000, 0.5, 33)), dataSize: -1}.bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		samples, err := ReadWAV(bytes.NewReader(data))
		if err != nil {
			require.ErrorIs(t, err, ErrBadWAV)
			return
		}
		var out bytes.Buffer
		require.NoError(t, WriteWAV(&out, samples))
		again, err := ReadWAV(&out)
		require.NoError(t, err)
		require.Equal(t, len(samples), len(again))
		require.Equal(t, samples, again)
	})
}
