package sipgw

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"

	"github.com/onecxi/phone/server/sipgw/media"
)

// ptime is the packet duration we offer and send, in milliseconds.
const ptime = 20

// callMedia is one call's RTP session and its SDP negotiation state, shared
// by outbound and inbound calls. Its methods are safe for concurrent use.
type callMedia struct {
	g      *Gateway
	sess   *media.Session
	sessID uint64

	mu         sync.Mutex
	version    uint64
	localHold  bool // the app holds the SIP party
	remoteHold bool // the SIP party holds us (its offer was sendonly/inactive)
	remote     netip.AddrPort
	codec      media.Codec
	eventPT    uint8
	started    bool
}

func newCallMedia(g *Gateway) (*callMedia, error) {
	s, err := media.Listen(g.rtpIP, g.cfg.RTPPortMin, g.cfg.RTPPortMax)
	if err != nil {
		return nil, fmt.Errorf("rtp: %w", err)
	}
	// The o= session ID only has to be unique per call; it is not a secret.
	return &callMedia{g: g, sess: s, sessID: rand.Uint64() >> 2}, nil
}

// direction is what we do given who holds: RFC 3264 section 8.4.
func direction(localHold, remoteHold bool) media.Direction {
	switch {
	case localHold && remoteHold:
		return media.Inactive
	case localHold:
		return media.SendOnly
	case remoteHold:
		return media.RecvOnly
	}
	return media.SendRecv
}

func (m *callMedia) localDesc(dir media.Direction) media.Description {
	addr := netip.AddrPortFrom(m.g.extIP, m.sess.LocalAddr().Port())
	return media.Description{Addr: addr, Codecs: m.g.codecs, EventPT: media.DefaultEventPT, Direction: dir, PTime: ptime}
}

// offer returns a new SDP offer (first INVITE, or a hold/resume re-INVITE)
// reflecting the current hold state.
func (m *callMedia) offer() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.version++
	return media.Offer(m.localDesc(direction(m.localHold, m.remoteHold)), m.sessID, m.version)
}

// setLocalHold records whether the app holds the SIP party; it reports
// whether that changed.
func (m *callMedia) setLocalHold(on bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := m.localHold != on
	m.localHold = on
	return changed
}

// applyAnswer takes the far end's SDP answer to our offer.
func (m *callMedia) applyAnswer(body []byte) error {
	d, err := media.Parse(body)
	if err != nil {
		return err
	}
	var codec media.Codec
	found := false
	for _, c := range d.Codecs {
		for _, ours := range m.g.codecs {
			if c.Name == ours.Name {
				codec, found = c, true
				break
			}
		}
		if found {
			break
		}
	}
	if !found {
		return media.ErrNoCommonCodec
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remote, m.codec, m.eventPT = d.Addr, codec, d.EventPT
	m.apply()
	return nil
}

// answer takes the far end's offer (the first INVITE or a re-INVITE) and
// returns our SDP answer. held reports whether the far end now holds us.
func (m *callMedia) answer(body []byte) (answer []byte, held bool, err error) {
	offer, err := media.Parse(body)
	if err != nil {
		return nil, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remoteHold = offer.Direction == media.SendOnly || offer.Direction == media.Inactive
	m.version++
	local := netip.AddrPortFrom(m.g.extIP, m.sess.LocalAddr().Port())
	desc, sdp, err := media.Answer(offer, local, m.g.codecs, direction(m.localHold, false), m.sessID, m.version)
	if err != nil {
		return nil, m.remoteHold, err
	}
	if len(desc.Codecs) == 0 {
		return nil, m.remoteHold, media.ErrNoCommonCodec
	}
	m.remote, m.codec, m.eventPT = offer.Addr, desc.Codecs[0], desc.EventPT
	m.apply()
	return sdp, m.remoteHold, nil
}

// apply pushes the negotiated state into a started session. m.mu is held.
func (m *callMedia) apply() {
	if m.started {
		m.sess.Update(m.remote, m.codec, m.eventPT)
		m.sess.SetDirection(direction(m.localHold, m.remoteHold))
	}
}

// applyHold pushes the hold state into the session after our own offer was
// accepted.
func (m *callMedia) applyHold() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		m.sess.SetDirection(direction(m.localHold, m.remoteHold))
	}
}

// start runs RTP with what was negotiated.
func (m *callMedia) start(ctx context.Context, sink media.Sink, onDTMF func(byte), onTimeout func()) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.sess.Start(ctx, media.SessionConfig{
		Remote: m.remote, Codec: m.codec, EventPT: m.eventPT, Sink: sink,
		OnDTMF: onDTMF, OnTimeout: onTimeout, Timeout: m.g.cfg.RTPTimeout, Log: m.g.log,
	})
	if err != nil {
		return fmt.Errorf("rtp: %w", err)
	}
	m.started = true
	m.sess.SetDirection(direction(m.localHold, m.remoteHold))
	return nil
}

func (m *callMedia) close() { _ = m.sess.Close() }

// remoteHeld reports whether the far end holds us, as its last offer or
// answer said.
func (m *callMedia) remoteHeld() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.remoteHold
}

// reoffer is our offer for a far end that asked for one (an offerless
// re-INVITE): what we want, whatever the far end's last offer held, so
// that its answer can resume as well as hold (RFC 3264 section 8.4).
func (m *callMedia) reoffer() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.version++
	return media.Offer(m.localDesc(direction(m.localHold, false)), m.sessID, m.version)
}

// applyReofferAnswer takes the answer to a reoffer (in an ACK): the media
// as applyAnswer, and whether the far end now holds us, from the answer's
// direction (sendonly, or inactive while we do not hold).
func (m *callMedia) applyReofferAnswer(body []byte) (held bool, err error) {
	d, err := media.Parse(body)
	if err != nil {
		return false, err
	}
	if err := m.applyAnswer(body); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remoteHold = d.Direction == media.SendOnly || (d.Direction == media.Inactive && !m.localHold)
	m.apply()
	return m.remoteHold, nil
}
