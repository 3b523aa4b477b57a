package endpoint

import "github.com/onecxi/phone/dsp"

// StartHoldMusic plays what a held party hears, dsp's synthesised hold loop
// from its start, into sink until the player is stopped.
func StartHoldMusic(spawn Spawner, sink AudioSink) *Player {
	return StartPlayer(spawn, sink, Loop{dsp.NewHoldMusic()})
}
