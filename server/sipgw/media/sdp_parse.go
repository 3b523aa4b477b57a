package media

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/onecxi/phone/wire"
)

// maxPT is the largest RTP payload type (7 bits).
const maxPT = 127

// Parse reads the audio stream of a session description: the first audio m=
// line on RTP/AVP (or AVPF), preferring one that is not disabled. It takes
// a=rtpmap (and the static payload types without one), telephone-event/8000
// with its a=fmtp, c= at media or session level, the direction at either
// level and a=ptime. A c= of 0.0.0.0 (RFC 2543 hold) is read as "do not
// send to me": the direction loses its receiving half.
//
// Errors wrap ErrBadSDP (unparseable) or ErrNoAudio.
func Parse(b []byte) (Description, error) {
	if !bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("v=")) {
		return Description{}, fmt.Errorf("%w: does not start with v=", ErrBadSDP)
	}
	var s sdp.SessionDescription
	if err := s.Unmarshal(b); err != nil {
		return Description{}, fmt.Errorf("%w: %w", ErrBadSDP, wire.QuoteError(err))
	}
	var d Description
	chosen, srtp := -1, false
	for i, m := range s.MediaDescriptions {
		proto := strings.Join(m.MediaName.Protos, "/")
		format := "0"
		if len(m.MediaName.Formats) > 0 {
			format = m.MediaName.Formats[0]
		}
		d.others = append(d.others, mline{media: m.MediaName.Media, proto: proto, format: format})
		if m.MediaName.Media != "audio" {
			continue
		}
		if proto != "RTP/AVP" && proto != "RTP/AVPF" {
			srtp = srtp || strings.Contains(proto, "SAVP")
			continue
		}
		if chosen < 0 || (s.MediaDescriptions[chosen].MediaName.Port.Value == 0 && m.MediaName.Port.Value != 0) {
			chosen = i
		}
	}
	if chosen < 0 {
		if srtp {
			return Description{}, fmt.Errorf("%w: only SRTP audio, which is not supported", ErrNoAudio)
		}
		return Description{}, ErrNoAudio
	}
	d.audio = chosen
	m := s.MediaDescriptions[chosen]

	conn := m.ConnectionInformation
	if conn == nil {
		conn = s.ConnectionInformation
	}
	if conn == nil || conn.Address == nil {
		return Description{}, fmt.Errorf("%w: no c= line for the audio stream", ErrBadSDP)
	}
	addr, err := netip.ParseAddr(conn.Address.Address)
	if err != nil {
		return Description{}, fmt.Errorf("%w: connection address %s is not an IP address", ErrBadSDP, wire.Quote(conn.Address.Address))
	}
	port := m.MediaName.Port.Value
	if port < 0 || port > 0xFFFF {
		return Description{}, fmt.Errorf("%w: port %d", ErrBadSDP, port)
	}
	d.Addr = netip.AddrPortFrom(addr, uint16(port))

	d.Direction = SendRecv
	for _, attrs := range [][]sdp.Attribute{s.Attributes, m.Attributes} {
		for _, a := range attrs {
			if dir := Direction(a.Key); dir.Valid() {
				d.Direction = dir
			}
		}
	}
	if addr.IsUnspecified() {
		d.Direction = directionOf(d.Direction.Sends(), false)
	}

	if v, ok := m.Attribute("ptime"); ok {
		d.PTime = parsePTime(v)
	} else if v, ok := s.Attribute("ptime"); ok {
		d.PTime = parsePTime(v)
	}

	d.Codecs, d.EventPT = parseFormats(m)
	return d, nil
}

// parseFormats lists m's 8 kHz codecs in the m= line's order and finds
// telephone-event/8000.
func parseFormats(m *sdp.MediaDescription) ([]Codec, uint8) {
	type rtpmap struct {
		name  string
		clock int
	}
	maps := map[uint8]rtpmap{}
	fmtps := map[uint8]string{}
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" && a.Key != "fmtp" {
			continue
		}
		ptStr, rest, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
		pt, ok := parsePT(ptStr)
		if !ok {
			continue
		}
		if a.Key == "fmtp" {
			fmtps[pt] = strings.TrimSpace(rest)
			continue
		}
		// encoding name / clock rate [/ channels]
		parts := strings.Split(strings.TrimSpace(rest), "/")
		if len(parts) < 2 || parts[0] == "" {
			continue
		}
		clock, err := strconv.Atoi(parts[1])
		if err != nil {
			continue
		}
		if _, dup := maps[pt]; !dup {
			maps[pt] = rtpmap{name: parts[0], clock: clock}
		}
	}

	var codecs []Codec
	var eventPT uint8
	for _, f := range m.MediaName.Formats {
		pt, ok := parsePT(f)
		if !ok {
			continue
		}
		rm, mapped := maps[pt]
		if !mapped {
			name, static := staticCodecs[pt]
			if !static {
				continue
			}
			rm = rtpmap{name: name, clock: ClockRate}
		}
		if rm.clock != ClockRate {
			continue
		}
		switch {
		case strings.EqualFold(rm.name, eventName):
			if eventPT == 0 && pt != 0 && dtmfEvents(fmtps[pt]) {
				eventPT = pt
			}
		case strings.EqualFold(rm.name, "CN"):
			// comfort noise is not a codec to choose
		default:
			codecs = append(codecs, Codec{Name: strings.ToUpper(rm.name), PayloadType: pt})
		}
	}
	return codecs, eventPT
}

func parsePT(s string) (uint8, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxPT {
		return 0, false
	}
	return uint8(n), true
}

func parsePTime(v string) int {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil && n > 0 && n <= 1000 {
		return n
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 1 && f <= 1000 {
		return int(f)
	}
	return 0
}

// dtmfEvents reports whether a telephone-event fmtp (like "0-15" or
// "0-11,16") covers the twelve keypad digits. No fmtp means 0-15 (RFC 4733
// section 7.1.1); one we cannot read is given the benefit of the doubt.
func dtmfEvents(fmtp string) bool {
	if fmtp == "" {
		return true
	}
	var have [12]bool
	for part := range strings.SplitSeq(fmtp, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return true
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return true
			}
		}
		for e := max(a, 0); e <= min(b, len(have)-1); e++ {
			have[e] = true
		}
	}
	for _, ok := range have {
		if !ok {
			return false
		}
	}
	return true
}
