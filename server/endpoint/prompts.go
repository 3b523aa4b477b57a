package endpoint

import (
	"embed"
	"encoding/binary"
	"sync"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/wire"
)

// The IVR's spoken prompts, 8 kHz mono signed 16-bit little-endian PCM (the
// wire's format, so nothing is decoded at run time). prompts/generate.sh
// makes them with espeak-ng and sox; they are committed so neither is needed
// to build or test.
//
//go:embed prompts/*.sln
var promptFiles embed.FS

// dtmfToneMillis is how long the IVR plays a pressed digit's tone.
const dtmfToneMillis = 200

// clips holds the decoded prompts and DTMF tones, built once on first use and
// shared read-only by every IVR call.
var clips = sync.OnceValue(func() *clipSet {
	c := &clipSet{
		welcome: readPrompt("welcome"),
		digits:  make(map[byte][]int16, 12),
		tones:   make(map[byte][]int16, 12),
		gap:     make([]int16, wire.SampleRate*60/1000),
	}
	for _, d := range []byte("0123456789*#") {
		name := string(d)
		switch d {
		case '*':
			name = "star"
		case '#':
			name = "hash"
		}
		c.digits[d] = readPrompt(name)
		low, high, _ := dsp.DTMFFreqs(d)
		tone := make([]int16, wire.SampleRate*dtmfToneMillis/1000)
		dsp.NewDualTone(low, high, 0.5).Fill(tone)
		c.tones[d] = tone
	}
	return c
})

type clipSet struct {
	welcome       []int16
	digits, tones map[byte][]int16
	gap           []int16 // silence between a digit's tone and its name
}

// readPrompt returns the samples of prompts/<name>.sln; nil if it is missing
// (a test checks they all exist).
func readPrompt(name string) []int16 {
	b, err := promptFiles.ReadFile("prompts/" + name + ".sln")
	if err != nil {
		return nil
	}
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}
