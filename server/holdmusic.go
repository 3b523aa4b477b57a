package server

import "github.com/onecxi/phone/callcore/audio"

// newHoldMusic returns what a held party hears: the audio package's
// synthesised hold loop, from its start.
func newHoldMusic() audio.Source { return audio.NewHoldMusic() }
