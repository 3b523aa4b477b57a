// Package dsp is the sound both the phone and the server make or measure, in
// the wire's format (8 kHz mono signed 16-bit PCM): [Source]s that
// synthesise audio ([Tone], [DualTone] for DTMF, [HoldMusic]), the DTMF
// frequency table, mixing ([Clip], [MixInto]), and measurement ([Goertzel],
// [ToneShare], [Energy], [Level]) that tests use to check that audio got
// through intact.
//
// It sits beside package wire at the ground floor: the client SDK's audio
// layer (callcore/audio) and the server's call endpoints both build on it,
// and it imports neither.
package dsp
