// Package audio is the softphone's sound layer: 8 kHz mono signed 16-bit PCM
// in 20 ms frames ([FrameSamples] samples), the format of the wire.
//
// It holds:
//   - [Device]s that clock a [Stream] every 20 ms: [NewMalgoDevice] (real
//     microphone and speaker via miniaudio), [NewToneDevice] and
//     [NewNullDevice] (for tests and headless use) and [NewFileDevice] (WAV or
//     synthetic input, WAV recording, for the CLI);
//   - [JitterBuffer], which turns frames arriving irregularly from the
//     network into a steady play-out stream, reordering them, concealing
//     losses and adapting its delay to the measured jitter;
//   - sources of what the phone plays by itself: [Ringback], [Ringtone] and
//     [DTMFFeedback], built on package dsp (tones, hold music, Goertzel
//     detection), which the server shares;
//   - [ReadWAV] and [WriteWAV] for prompts and recordings.
//
// Nothing here panics on bad input: malformed WAV files, odd frame sizes and
// out-of-range parameters give errors or are clamped.
package audio
