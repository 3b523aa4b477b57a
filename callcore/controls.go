package callcore

import (
	"context"
	"errors"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// placedCall returns the current call if Start has returned nil for it (it
// is ringing or active), else ErrNoCallInProgress (or ErrNotInitialized).
// answered additionally requires the call to be active.
func (s *SDK) placedCall(answered bool, what string) (*call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.disposed || s.creds == nil {
		return nil, errNotInitialized()
	}
	c := s.call
	if c == nil || !c.placed || c.phase == phaseEnded {
		return nil, newError(ErrNoCallInProgress, nil, "%s needs a call", what)
	}
	if answered && c.phase != phaseActive {
		return nil, newError(ErrNoCallInProgress, nil, "%s needs an answered call", what)
	}
	return c, nil
}

// MuteCall mutes (true) or unmutes (false) the microphone; explicit values,
// no toggle. Muting stops audio leaving the device at once, before the
// server acknowledges; unmuting resumes it once the server has. Setting the
// state the call already has succeeds. Errors: ErrNoCallInProgress;
// ErrMuteControlFailed when the server rejects or does not acknowledge
// within wire.ReplyTimeout — a failed mute still keeps the microphone muted
// (privacy first), a failed unmute leaves it muted. onCallStatusChanged
// follows every change.
func (s *SDK) MuteCall(ctx context.Context, mute bool) error {
	c, err := s.placedCall(false, "mute")
	if err != nil {
		return err
	}
	if mute {
		c.media.setMuted(true)
	}
	_, err = c.request(ctx, wire.Message{Type: wire.TypeMute, On: wire.Bool(mute)})
	if err == nil && !mute {
		c.media.setMuted(false)
	}
	s.mu.Lock()
	if err == nil || mute {
		s.updateCallStatusLocked(c, func(st CallStatus) CallStatus { return st.WithMuted(mute) })
	}
	s.mu.Unlock()
	if err != nil {
		return controlError(ErrMuteControlFailed, err, "mute", mute)
	}
	return nil
}

// HoldCall holds (true) or resumes (false) the call. While held nothing is
// sent and silence is played; hold takes effect locally at once, resume once
// the server acknowledges. A failed hold is undone. Errors:
// ErrNoCallInProgress; ErrHoldControlFailed.
func (s *SDK) HoldCall(ctx context.Context, hold bool) error {
	c, err := s.placedCall(false, "hold")
	if err != nil {
		return err
	}
	wasHeld := c.media.isHeld()
	if hold {
		c.media.setHeld(true)
	}
	_, err = c.request(ctx, wire.Message{Type: wire.TypeHold, On: wire.Bool(hold)})
	if err != nil {
		c.media.setHeld(wasHeld)
		return controlError(ErrHoldControlFailed, err, "hold", hold)
	}
	if !hold {
		c.media.setHeld(false)
	}
	s.mu.Lock()
	s.updateCallStatusLocked(c, func(st CallStatus) CallStatus { return st.WithOnHold(hold) })
	s.mu.Unlock()
	return nil
}

// SetSpeaker routes call audio to the loudspeaker (true) or the earpiece
// (false) through the platform. Errors: ErrNoCallInProgress;
// ErrSpeakerControlFailed. The route returns to the earpiece when the call
// ends.
func (s *SDK) SetSpeaker(ctx context.Context, enabled bool) error {
	c, err := s.placedCall(false, "speaker")
	if err != nil {
		return err
	}
	route := platform.RouteEarpiece
	if enabled {
		route = platform.RouteSpeaker
	}
	if err := s.plat.SetAudioRoute(ctx, route); err != nil {
		return platformError(ErrSpeakerControlFailed, err, "switching audio to the "+route.String())
	}
	s.mu.Lock()
	s.updateCallStatusLocked(c, func(st CallStatus) CallStatus { return st.WithSpeakerOn(enabled) })
	s.mu.Unlock()
	return nil
}

func controlError(kind ErrorKind, err error, what string, on bool) *Error {
	state := "off"
	if on {
		state = "on"
	}
	if se := (*ServerError)(nil); errors.As(err, &se) {
		return newError(kind, err, "the server refused %s %s", what, state)
	}
	return newError(kind, err, "%s %s was not acknowledged", what, state)
}

// SendDTMF sends one DTMF digit ("0"-"9", "*", "#") on the answered call and
// plays its tone locally as feedback. Like the guide's sendDTMF it does not
// wait for the server: it returns once the digit is queued, and a server
// rejection or missing acknowledgement is reported through onCallError
// (kind ErrUnknown: the guide has no DTMF kind). Errors: ErrInvalidInput for
// anything but one valid digit; ErrNoCallInProgress without an answered
// call.
func (s *SDK) SendDTMF(digit string) error {
	if _, err := s.initialized(); err != nil {
		return err
	}
	if !wire.ValidDigit(digit) {
		return newError(ErrInvalidInput, nil, "DTMF digit %s must be exactly one of 0-9, * or #", wire.Quote(digit))
	}
	c, err := s.placedCall(true, "DTMF")
	if err != nil {
		return err
	}
	c.media.playDTMF(digit[0])
	typ := c.p.typ
	report := func(err error) {
		if err != nil && !errors.Is(err, errCallGone) && !errors.Is(err, context.Canceled) {
			s.emitError(newError(ErrUnknown, err, "DTMF digit %s was not delivered", digit), typ)
		}
	}
	// Queued here, in call order; only the acknowledgement is awaited in the
	// background.
	r, err := c.send(wire.Message{Type: wire.TypeDTMF, Digit: digit})
	if err != nil {
		report(err)
		return nil
	}
	if !s.goBackground(func() {
		_, err := r.wait(c.ctx)
		report(err)
	}) {
		r.forget()
	}
	return nil
}

// RefreshCallStatus re-syncs the status with the server (guide section 13:
// call it when the app returns to the foreground) and fires
// onCallStatusChanged. With a live call it asks the server for the call's
// state and adopts it: an ended call is torn down, hold follows the server,
// and mute becomes true if either side thinks it is muted (never unmuting on
// the server's word). Without a call it reports the idle status.
func (s *SDK) RefreshCallStatus(ctx context.Context) error {
	if _, err := s.initialized(); err != nil {
		return err
	}
	c, err := s.placedCall(false, "refresh")
	if err != nil {
		s.mu.Lock()
		s.emitStatusLocked(s.status)
		s.mu.Unlock()
		return nil
	}
	r, err := c.request(ctx, wire.Message{Type: wire.TypeStatus})
	if err != nil {
		if errors.Is(err, errCallGone) {
			return nil // ended meanwhile: the teardown reported it
		}
		if ServerCode(err) == wire.CodeCallEnded {
			_ = s.endCall(ctx, c, wire.ReasonHangup)
			return nil
		}
		return newError(ErrUnknown, err, "refreshing the call status")
	}
	switch r.State {
	case "ended":
		_ = s.endCall(ctx, c, wire.ReasonHangup)
		return nil
	}
	muted := r.Muted || c.media.isMuted()
	if muted {
		c.media.setMuted(true)
	}
	c.media.setHeld(r.Held)
	s.mu.Lock()
	s.updateCallStatusLocked(c, func(st CallStatus) CallStatus {
		st = st.WithMuted(muted).WithOnHold(r.Held)
		if r.CallID != "" {
			st = st.WithCallID(r.CallID)
		}
		return st
	})
	s.mu.Unlock()
	return nil
}
