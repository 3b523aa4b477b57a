// Package endpoint holds the far ends the server itself provides for a
// call: the [Echo] and the spoken [IVR] of the DID plan (with its embedded
// prompts), hold music, and the pieces they are built from: a [Stamper] that
// gives server-made frames their own sequence numbers and timestamps, and a
// [Player] that paces a [FrameSource] at one frame per 20 ms on a goroutine
// of its own, idle (no ticker) while it has nothing to play.
//
// An [Endpoint] takes the caller's audio on the caller's reader goroutine
// and its DTMF, hold and close from the server's registry goroutine; none of
// its methods block. Package trunk builds the simulated telephone network on
// the same pieces.
package endpoint
