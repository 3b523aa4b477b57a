package main

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/onecxi/phone/wire"
)

// WebSocket framing (RFC 6455 §5.2) for the load client's detached sockets:
// masked frames out, the server's unmasked frames in. Only what the call
// server sends is accepted: whole (unfragmented) messages within the wire
// protocol's size limit.
const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA

	maxFrameHeader = 14 // 2 + 8-byte length + 4-byte mask
	// maxServerMessage bounds a server frame: an audio frame or a control
	// message (wire.MaxMessage applies to both).
	maxServerMessage = wire.MaxMessage
)

var errBadFrame = errors.New("bad WebSocket frame from the server")

// appendClientFrame appends payload as one final frame with opcode op,
// masked with key as RFC 6455 requires of a client.
func appendClientFrame(dst []byte, op byte, payload []byte, key uint32) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x80|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = binary.LittleEndian.AppendUint32(dst, key)
	start := len(dst)
	dst = append(dst, payload...)
	mask(dst[start:], key)
	return dst
}

// mask XORs b with the four key bytes repeated (as appended little-endian),
// eight bytes at a time.
func mask(b []byte, key uint32) {
	k8 := uint64(key) | uint64(key)<<32
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k8)
	}
	for j := 0; i < len(b); i, j = i+1, j+1 {
		b[i] ^= byte(key >> (8 * (j & 3)))
	}
}

// parseServerFrames hands each whole frame in b to onFrame and returns the
// bytes of a trailing partial frame.
func parseServerFrames(b []byte, onFrame func(op byte, payload []byte)) ([]byte, error) {
	for len(b) >= 2 {
		b0, b1 := b[0], b[1]
		switch {
		case b1&0x80 != 0:
			return nil, fmt.Errorf("%w: masked", errBadFrame)
		case b0&0x70 != 0:
			return nil, fmt.Errorf("%w: reserved bits %#x", errBadFrame, b0&0x70)
		case b0&0x80 == 0 || b0&0x0F == 0:
			return nil, fmt.Errorf("%w: fragmented message", errBadFrame)
		}
		n, h := uint64(b1&0x7F), 2
		switch n {
		case 126:
			if len(b) < 4 {
				return b, nil
			}
			n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return b, nil
			}
			n, h = binary.BigEndian.Uint64(b[2:]), 10
		}
		if n > maxServerMessage {
			return nil, fmt.Errorf("%w: %d-byte message", errBadFrame, n)
		}
		end := h + int(n)
		if len(b) < end {
			return b, nil
		}
		onFrame(b0&0x0F, b[h:end])
		b = b[end:]
	}
	return b, nil
}
