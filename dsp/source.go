package dsp

import "math"

// Source generates audio: each Fill writes the next len(out) samples.
// Sources are not safe for concurrent use unless they say so.
type Source interface {
	Fill(out []int16)
}

var (
	_ Source = (*Tone)(nil)
	_ Source = (*DualTone)(nil)
	_ Source = (*HoldMusic)(nil)
)

// LevelFloor is what Level reports for silence: the 16-bit noise floor.
const LevelFloor = -96.0

// Level returns the power of samples in dBFS for a level meter: 0 for a
// full-scale square wave, about -3 for a full-scale sine, LevelFloor for
// silence or nothing.
func Level(samples []int16) float64 {
	e := Energy(samples)
	if e == 0 {
		return LevelFloor
	}
	return math.Max(LevelFloor, 10*math.Log10(e))
}

// Ramp is the gain of a fade of n samples at position i (0 → 1), used to
// start and end synthesised tones without clicks.
func Ramp(i, n int) float32 {
	if i >= n {
		return 1
	}
	return float32(i) / float32(n)
}
