package media

import (
	"encoding/binary"
	"strings"

	"github.com/zaf/g711"
)

// ClockRate is the RTP clock of every codec here (and of wire frames).
const ClockRate = 8000

// DefaultEventPT is the telephone-event payload type we offer.
const DefaultEventPT = 101

// Codec is an RTP audio codec at 8 kHz. Only PCMU and PCMA (by Name,
// case-insensitive) can encode and decode; others may appear in a parsed
// offer so the caller can see what was offered.
type Codec struct {
	Name        string
	PayloadType uint8
}

// The G.711 codecs with their static payload types (RFC 3551).
var (
	PCMU = Codec{"PCMU", 0}
	PCMA = Codec{"PCMA", 8}
)

// Supported reports whether c can be encoded and decoded.
func (c Codec) Supported() bool { return c.law() != lawNone }

type law uint8

const (
	lawNone law = iota
	lawMu
	lawA
)

func (c Codec) law() law {
	switch {
	case strings.EqualFold(c.Name, "PCMU"):
		return lawMu
	case strings.EqualFold(c.Name, "PCMA"):
		return lawA
	}
	return lawNone
}

// G.711 comes from github.com/zaf/g711: its per-sample functions follow the
// ITU-T G.191 reference implementation bit for bit (codec_test.go compares
// every 16-bit input) and do not allocate.

// Encode appends the G.711 encoding of pcm to dst, one byte per sample. An
// unsupported codec appends nothing.
func (c Codec) Encode(dst []byte, pcm []int16) []byte {
	switch c.law() {
	case lawMu:
		for _, s := range pcm {
			dst = append(dst, g711.EncodeUlawFrame(s))
		}
	case lawA:
		for _, s := range pcm {
			dst = append(dst, g711.EncodeAlawFrame(s))
		}
	}
	return dst
}

// Decode appends the linear samples of g711 to dst. An unsupported codec
// appends nothing.
func (c Codec) Decode(dst []int16, g711data []byte) []int16 {
	switch c.law() {
	case lawMu:
		for _, b := range g711data {
			dst = append(dst, g711.DecodeUlawFrame(b))
		}
	case lawA:
		for _, b := range g711data {
			dst = append(dst, g711.DecodeAlawFrame(b))
		}
	}
	return dst
}

// encodeLE appends the encoding of little-endian 16-bit samples (a wire
// frame's payload) without an intermediate []int16.
func (l law) encodeLE(dst, le []byte) []byte {
	n := len(le) / 2
	if l == lawMu {
		for i := range n {
			dst = append(dst, g711.EncodeUlawFrame(int16(binary.LittleEndian.Uint16(le[2*i:]))))
		}
		return dst
	}
	for i := range n {
		dst = append(dst, g711.EncodeAlawFrame(int16(binary.LittleEndian.Uint16(le[2*i:]))))
	}
	return dst
}

// decodeLE appends the samples of g711 as little-endian 16-bit (a wire
// frame's payload).
func (l law) decodeLE(dst, g []byte) []byte {
	if l == lawMu {
		for _, b := range g {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(g711.DecodeUlawFrame(b)))
		}
		return dst
	}
	for _, b := range g {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(g711.DecodeAlawFrame(b)))
	}
	return dst
}
