package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// ErrBadWAV is wrapped by every error ReadWAV returns for input that is not a
// WAV file it supports (as opposed to an I/O error of the reader).
var ErrBadWAV = errors.New("audio: unsupported or malformed WAV")

// MaxWAVData bounds the data chunk ReadWAV accepts, and so its memory use:
// 64 MiB is over half an hour of 16-bit 16 kHz stereo.
const MaxWAVData = 64 << 20

// maxFmtChunk bounds the format chunk: 16 bytes for PCM, 40 for
// WAVE_FORMAT_EXTENSIBLE; anything far bigger is garbage.
const maxFmtChunk = 1 << 10

const (
	wavFormatPCM        = 1
	wavFormatExtensible = 0xFFFE
)

// wavRates are the sample rates ReadWAV converts to SampleRate.
var wavRates = map[uint32]bool{
	8000: true, 11025: true, 16000: true, 22050: true,
	24000: true, 32000: true, 44100: true, 48000: true,
}

type wavFormat struct {
	channels   uint16
	rate       uint32
	blockAlign uint16
}

// ReadWAV decodes a RIFF/WAVE file of 16-bit PCM, mono or stereo, at 8 kHz
// or one of the common rates from 11025 to 48000 Hz, into 8 kHz mono samples:
// stereo is averaged, other rates are low-pass filtered and resampled.
// Anything else (8-bit, float, compressed, truncated, a data chunk over
// MaxWAVData) is an error wrapping ErrBadWAV.
func ReadWAV(r io.Reader) ([]int16, error) {
	var hdr [12]byte
	if err := readFull(r, hdr[:], "RIFF header"); err != nil {
		return nil, err
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: not a RIFF/WAVE file", ErrBadWAV)
	}
	var format *wavFormat
	for {
		var ch [8]byte
		if err := readFull(r, ch[:], "chunk header"); err != nil {
			if format == nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: no data chunk", ErrBadWAV)
		}
		id := string(ch[0:4])
		size := binary.LittleEndian.Uint32(ch[4:8])
		// Chunks are word aligned: an odd-sized chunk is followed by a pad byte.
		padded := int64(size) + int64(size&1)
		switch id {
		case "fmt ":
			if format != nil {
				return nil, fmt.Errorf("%w: two fmt chunks", ErrBadWAV)
			}
			if size < 16 || size > maxFmtChunk {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes", ErrBadWAV, size)
			}
			buf := make([]byte, padded)
			if err := readFull(r, buf, "fmt chunk"); err != nil {
				return nil, err
			}
			f, err := parseFmt(buf[:size])
			if err != nil {
				return nil, err
			}
			format = &f
		case "data":
			if format == nil {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrBadWAV)
			}
			if size > MaxWAVData {
				return nil, fmt.Errorf("%w: data chunk of %d bytes exceeds %d", ErrBadWAV, size, MaxWAVData)
			}
			// ReadAll grows with what actually arrives, so a header lying
			// about the size cannot make us allocate 64 MiB up front.
			data, err := io.ReadAll(io.LimitReader(r, int64(size)))
			if err != nil {
				return nil, fmt.Errorf("reading WAV data: %w", err)
			}
			if len(data) != int(size) {
				return nil, fmt.Errorf("%w: data chunk truncated at %d of %d bytes", ErrBadWAV, len(data), size)
			}
			// Whatever follows the data chunk (LIST, padding) is irrelevant.
			return decodePCM(data, *format), nil
		default:
			if _, err := io.CopyN(io.Discard, r, padded); err != nil {
				return nil, wrapRead(err, "chunk "+printable(id))
			}
		}
	}
}

func parseFmt(b []byte) (wavFormat, error) {
	tag := binary.LittleEndian.Uint16(b[0:2])
	f := wavFormat{
		channels:   binary.LittleEndian.Uint16(b[2:4]),
		rate:       binary.LittleEndian.Uint32(b[4:8]),
		blockAlign: binary.LittleEndian.Uint16(b[12:14]),
	}
	bits := binary.LittleEndian.Uint16(b[14:16])
	if tag == wavFormatExtensible {
		// The real format is the first two bytes of the sub-format GUID.
		if len(b) < 26 {
			return f, fmt.Errorf("%w: short WAVE_FORMAT_EXTENSIBLE fmt chunk", ErrBadWAV)
		}
		tag = binary.LittleEndian.Uint16(b[24:26])
	}
	switch {
	case tag != wavFormatPCM:
		return f, fmt.Errorf("%w: format tag %#x is not PCM", ErrBadWAV, tag)
	case bits != 16:
		return f, fmt.Errorf("%w: %d bits per sample, want 16", ErrBadWAV, bits)
	case f.channels != 1 && f.channels != 2:
		return f, fmt.Errorf("%w: %d channels, want 1 or 2", ErrBadWAV, f.channels)
	case f.blockAlign != 2*f.channels:
		return f, fmt.Errorf("%w: block align %d for %d channels", ErrBadWAV, f.blockAlign, f.channels)
	case !wavRates[f.rate]:
		return f, fmt.Errorf("%w: sample rate %d Hz not supported", ErrBadWAV, f.rate)
	}
	return f, nil
}

// decodePCM turns little-endian interleaved samples into mono at SampleRate.
// A trailing partial sample frame is ignored.
func decodePCM(data []byte, f wavFormat) []int16 {
	n := len(data) / int(f.blockAlign)
	mono := make([]int16, n)
	for i := range mono {
		p := data[i*int(f.blockAlign):]
		if f.channels == 1 {
			mono[i] = int16(binary.LittleEndian.Uint16(p))
			continue
		}
		l := int32(int16(binary.LittleEndian.Uint16(p)))
		r := int32(int16(binary.LittleEndian.Uint16(p[2:])))
		mono[i] = int16((l + r) / 2)
	}
	if f.rate == SampleRate {
		return mono
	}
	return Resample(mono, int(f.rate))
}

// WriteWAV writes samples as a 16-bit mono PCM WAV file at SampleRate.
func WriteWAV(w io.Writer, samples []int16) error {
	if len(samples) > (math.MaxUint32-36)/2 {
		return fmt.Errorf("audio: %d samples are too many for a WAV file", len(samples))
	}
	dataLen := uint32(2 * len(samples))
	b := make([]byte, 0, 44+int(dataLen))
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, 36+dataLen)
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16) // fmt chunk size
	b = binary.LittleEndian.AppendUint16(b, wavFormatPCM)
	b = binary.LittleEndian.AppendUint16(b, 1) // channels
	b = binary.LittleEndian.AppendUint32(b, SampleRate)
	b = binary.LittleEndian.AppendUint32(b, SampleRate*2) // byte rate
	b = binary.LittleEndian.AppendUint16(b, 2)            // block align
	b = binary.LittleEndian.AppendUint16(b, 16)           // bits per sample
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, dataLen)
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("writing WAV: %w", err)
	}
	return nil
}

// readFull reads len(b) bytes, calling a short read a truncated file.
func readFull(r io.Reader, b []byte, what string) error {
	if _, err := io.ReadFull(r, b); err != nil {
		return wrapRead(err, what)
	}
	return nil
}

func wrapRead(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated in %s", ErrBadWAV, what)
	}
	return fmt.Errorf("reading WAV %s: %w", what, err)
}

// printable keeps a hostile chunk id from putting control bytes in errors.
func printable(id string) string {
	return fmt.Sprintf("%q", id)
}
