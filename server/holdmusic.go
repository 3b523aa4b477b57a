package server

import "github.com/onecxi/phone/dsp"

// newHoldMusic returns what a held party hears: the audio package's
// synthesised hold loop, from its start.
func newHoldMusic() dsp.Source { return dsp.NewHoldMusic() }
