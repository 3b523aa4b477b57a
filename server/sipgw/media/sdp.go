package media

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/onecxi/phone/wire"
)

// Description is the audio half of a session description: what Parse finds
// in an offer or answer, and what Offer and Answer write.
type Description struct {
	// Addr is the c= address and m= port of the audio stream. Port 0 means
	// the stream is rejected (or, in an offer, disabled).
	Addr netip.AddrPort
	// Codecs are in preference order; in an answer exactly one. Parse lists
	// every 8 kHz codec offered, supported or not (see Codec.Supported).
	Codecs []Codec
	// EventPT is the payload type of telephone-event/8000, 0 if absent.
	EventPT uint8
	// Direction of the audio stream, from the describer's point of view
	// (default sendrecv).
	Direction Direction
	// PTime is the packet time in ms, 0 if absent.
	PTime int

	// others are the offer's m= lines, so an answer can reject all but ours
	// at the same positions (RFC 3264 section 6); audio is our line's index.
	others []mline
	audio  int
}

// mline is what an answer repeats of an m= line it rejects.
type mline struct {
	media, proto, format string
}

// Parts of the descriptions we write.
const (
	sdpUser    = "-"
	sdpSession = "-"
	avpProto   = "RTP/AVP"
	eventName  = "telephone-event"
	// eventFmtp are the events we send and understand: the 16 DTMF tones.
	eventFmtp = "0-15"
	// defaultPTime is the packet time of the app's 20 ms frames.
	defaultPTime = 20
)

// staticCodecs are the RFC 3551 audio payload types at 8 kHz that may be
// offered without a=rtpmap.
var staticCodecs = map[uint8]string{0: "PCMU", 3: "GSM", 4: "G723", 8: "PCMA", 9: "G722", 15: "G728", 18: "G729"}

// Offer writes an SDP offer for local: one audio stream at local.Addr with
// local's codecs in order, telephone-event if local.EventPT is not 0, the
// direction (default sendrecv) and ptime (default 20).
func Offer(local Description, sessionID, version uint64) ([]byte, error) {
	if len(local.Codecs) == 0 {
		return nil, fmt.Errorf("%w: an offer needs a codec", ErrBadSDP)
	}
	return write(local, sessionID, version)
}

// Answer answers offer (RFC 3264): it picks the offer's first codec that is
// in supported (keeping the offer's payload type), accepts telephone-event
// at the offer's payload type if offered, and sets the direction to what
// both dir (what we want to do) and the offer allow: an offer sendonly gets
// at most recvonly, recvonly at most sendonly, inactive gets inactive. Other
// m= lines of the offer are rejected with port 0. It returns the answer
// both as a Description and as SDP.
//
// An offer whose audio port is 0 is ErrNoAudio; one without a common codec
// is ErrNoCommonCodec (answer 488 Not Acceptable Here).
func Answer(offer Description, local netip.AddrPort, supported []Codec, dir Direction, sessionID, version uint64) (Description, []byte, error) {
	if offer.Addr.Port() == 0 {
		return Description{}, nil, fmt.Errorf("%w: the offer's audio stream is disabled", ErrNoAudio)
	}
	if dir == "" {
		dir = SendRecv
	}
	if !dir.Valid() {
		return Description{}, nil, fmt.Errorf("%w: direction %q", ErrBadSDP, dir)
	}
	codec, ok := pickCodec(offer.Codecs, supported)
	if !ok {
		return Description{}, nil, fmt.Errorf("%w: offered %s", ErrNoCommonCodec, codecNames(offer.Codecs))
	}
	theirs := offer.Direction
	if theirs == "" {
		theirs = SendRecv
	}
	ans := Description{
		Addr:      local,
		Codecs:    []Codec{codec},
		EventPT:   offer.EventPT,
		Direction: directionOf(dir.Sends() && theirs.Receives(), dir.Receives() && theirs.Sends()),
		PTime:     defaultPTime,
		others:    offer.others,
		audio:     offer.audio,
	}
	b, err := write(ans, sessionID, version)
	if err != nil {
		return Description{}, nil, err
	}
	ans.others = nil
	return ans, b, nil
}

// pickCodec returns the first of offered that supported has (by name),
// with the offered payload type.
func pickCodec(offered, supported []Codec) (Codec, bool) {
	for _, o := range offered {
		if !o.Supported() {
			continue
		}
		for _, s := range supported {
			if strings.EqualFold(o.Name, s.Name) {
				return o, true
			}
		}
	}
	return Codec{}, false
}

// codecNames lists the codecs of an offer, quoted short: the names are the
// far end's.
func codecNames(cs []Codec) string {
	if len(cs) == 0 {
		return "nothing"
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return wire.Quote(strings.Join(names, ","))
}

// write renders d as a complete session description.
func write(d Description, sessionID, version uint64) ([]byte, error) {
	addr := d.Addr.Addr().Unmap()
	if !addr.IsValid() || addr.IsUnspecified() {
		return nil, fmt.Errorf("%w: address %v cannot be advertised", ErrBadSDP, d.Addr)
	}
	if d.Direction != "" && !d.Direction.Valid() {
		return nil, fmt.Errorf("%w: direction %q", ErrBadSDP, d.Direction)
	}
	addrType := "IP4"
	if addr.Is6() {
		addrType = "IP6"
	}
	conn := &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: addr.String()}}
	s := &sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: sdpUser, SessionID: sessionID, SessionVersion: version,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: addr.String(),
		},
		SessionName:           sdpSession,
		ConnectionInformation: conn,
		TimeDescriptions:      []sdp.TimeDescription{{}},
	}
	m := &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: "audio", Port: sdp.RangedPort{Value: int(d.Addr.Port())}, Protos: []string{"RTP", "AVP"},
	}}
	for _, c := range d.Codecs {
		pt := strconv.Itoa(int(c.PayloadType))
		m.MediaName.Formats = append(m.MediaName.Formats, pt)
		m.Attributes = append(m.Attributes, sdp.NewAttribute("rtpmap", pt+" "+c.Name+"/"+strconv.Itoa(ClockRate)))
	}
	if d.EventPT != 0 {
		pt := strconv.Itoa(int(d.EventPT))
		m.MediaName.Formats = append(m.MediaName.Formats, pt)
		m.Attributes = append(m.Attributes,
			sdp.NewAttribute("rtpmap", pt+" "+eventName+"/"+strconv.Itoa(ClockRate)),
			sdp.NewAttribute("fmtp", pt+" "+eventFmtp))
	}
	ptime := d.PTime
	if ptime <= 0 {
		ptime = defaultPTime
	}
	dir := d.Direction
	if dir == "" {
		dir = SendRecv
	}
	m.Attributes = append(m.Attributes, sdp.NewAttribute("ptime", strconv.Itoa(ptime)), sdp.NewPropertyAttribute(string(dir)))

	for i, o := range d.others {
		if i == d.audio {
			s.MediaDescriptions = append(s.MediaDescriptions, m)
			continue
		}
		s.MediaDescriptions = append(s.MediaDescriptions, &sdp.MediaDescription{MediaName: sdp.MediaName{
			Media: o.media, Protos: strings.Split(o.proto, "/"), Formats: []string{o.format},
		}})
	}
	if len(d.others) == 0 {
		s.MediaDescriptions = []*sdp.MediaDescription{m}
	}
	b, err := s.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	return b, nil
}
