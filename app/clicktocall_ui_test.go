package app

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/onecxi/phone/app/instance"
	"github.com/onecxi/phone/screens"
	"github.com/onecxi/phone/screens/screentest"
)

// A click-to-call link, handed over by a second start, fills the dialer
// with the normalised number and the sensible call type; it never dials.
// A hostile link is refused, the second start is told why, and the dialer
// is left alone.
func TestClickToCallLinkFillsTheDialer(t *testing.T) {
	ph := newSignedInPhone(t, "none")
	s := &single{}
	s.started(ph.p)

	type dialer struct{ Kind, Number string }
	read := func() dialer {
		return screentest.Get(ph.ui, func() dialer {
			d := ph.p.UI.Dialer
			return dialer{d.Kind.Selected, d.Number.Text}
		})
	}
	steps := []struct {
		link string
		want dialer
	}{
		{"tel:+1 (415) 555-0100", dialer{screens.CallChoices[1].Label, "+14155550100"}},
		{"callto://90000", dialer{screens.CallChoices[0].Label, "90000"}}, // the demo server's echo DID
		{"sip:%2B442079460958@carrier.example;user=phone", dialer{screens.CallChoices[1].Label, "+442079460958"}},
	}
	for _, st := range steps {
		assert.NoError(t, s.handle(instance.Request{Link: st.link}), st.link)
		ph.waitFor(t, "the dialer filled from "+st.link, func(u *UI) bool {
			return u.Dialer.Number.Text == st.want.Number
		})
		assert.Equal(t, st.want, read(), st.link)
	}
	assert.Equal(t, "dialer", screentest.Get(ph.ui, func() string { return screenName(ph.p.UI) }), "nothing was dialled")

	before := read()
	err := s.handle(instance.Request{Link: "tel:1-800-FLOWERS"})
	assert.ErrorContains(t, err, "not a digit")
	ph.waitFor(t, "the refusal shown", func(u *UI) bool { return u.Errors.Text != "" })
	assert.Contains(t, screentest.Get(ph.ui, func() string { return ph.p.UI.Errors.Text }), "cannot be dialled")
	assert.Equal(t, before, read(), "a refused link changes nothing")

	// Just a second start, no link: the window comes to the front.
	assert.NoError(t, s.handle(instance.Request{}))
}

func TestProfileName(t *testing.T) {
	assert.Equal(t, "default", profileName(Config{Audio: "none", Link: "tel:1"}))
	a := profileName(Config{Number: "1002"})
	assert.Regexp(t, `^p-[0-9a-f]{16}$`, a)
	assert.NotEqual(t, a, profileName(Config{Number: "1003"}), "another number is another phone")
	assert.Equal(t, a, profileName(Config{Number: "1002", Link: "tel:5"}), "a link does not change the profile")
}

// With "Call click-to-call links at once" set, a link places its call; one
// arriving during that call only waits in the dialer.
func TestClickToCallDialsAtOnceWhenSet(t *testing.T) {
	ph := newSignedInPhone(t, "none")
	s := &single{}
	s.started(ph.p)
	ph.ui.Do(func() { ph.p.UI.DialLinks.SetChecked(true) })
	assert.True(t, ph.p.app.Preferences().Bool(prefDialLinks), "the setting is kept")

	assert.NoError(t, s.handle(instance.Request{Link: "tel:90000"})) // the demo echo DID
	ph.waitAnswered(t)

	assert.NoError(t, s.handle(instance.Request{Link: "tel:+1 415 555 0100"}))
	ph.waitFor(t, "the second number waiting", func(u *UI) bool { return u.Dialer.Number.Text == "+14155550100" })
	assert.Equal(t, "in-call", screentest.Get(ph.ui, func() string { return screenName(ph.p.UI) }), "the call goes on")
	assert.Contains(t, screentest.Get(ph.ui, func() string { return ph.p.UI.Errors.Text }), "after this call")
}
