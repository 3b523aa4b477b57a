package screens

import (
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/screens/screentest"
)

// These tests build screens without an SDK (nil): they only exercise what
// happens before a screen would call it. The app package tests the screens
// against the real server and SDK.

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "00:00"},
		{-time.Second, "00:00"},
		{999 * time.Millisecond, "00:00"},
		{time.Second, "00:01"},
		{65 * time.Second, "01:05"},
		{59*time.Minute + 59*time.Second, "59:59"},
		{time.Hour, "1:00:00"},
		{time.Hour + 2*time.Minute + 3*time.Second, "1:02:03"},
		{25 * time.Hour, "25:00:00"},
	} {
		assert.Equal(t, tc.want, FormatDuration(tc.d), "%v", tc.d)
	}
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestInCallTimer(t *testing.T) {
	ui := screentest.New(t)
	clk := &clock{now: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)}
	c := screentest.Get(ui, func() *InCall { return NewInCall(nil) })
	timer := func() string { return screentest.Get(ui, func() string { return c.Timer.Text }) }

	ui.Do(func() {
		c.SetClock(clk.Now)
		c.Begin("90000", callcore.CallTypeInbound)
	})
	assert.Equal(t, "Connecting…", timer())
	assert.Equal(t, "90000", screentest.Get(ui, func() string { return c.Who.Text }))
	assert.Equal(t, "Service number", screentest.Get(ui, func() string { return c.Kind.Text }))

	ui.Do(func() {
		c.Update(callcore.CallStatus{CallType: callcore.CallTypeInbound}.WithState(callcore.CallStateRinging))
	})
	assert.Equal(t, "Ringing…", timer())

	ui.Do(c.Started)
	assert.Equal(t, "00:00", timer())
	clk.Add(time.Hour + 65*time.Second)
	require.True(t, ui.Eventually(func() bool { return c.Timer.Text == "1:01:05" }, 5*time.Second), "the timer never ticked: %q", timer())

	// A ringing status after the answer does not hide the timer.
	ui.Do(func() {
		c.Update(callcore.CallStatus{CallType: callcore.CallTypeInbound}.WithState(callcore.CallStateRinging))
	})
	assert.Equal(t, "1:01:05", timer())

	ui.Do(c.Reset)
	assert.Equal(t, "00:00", timer())
	clk.Add(time.Minute)
	// The ticker ticks every second: 1.1 s would see a tick if it still ran.
	assert.True(t, ui.Never(func() bool { return c.Timer.Text != "00:00" }, 1100*time.Millisecond),
		"the ticker outlived the call: %q", timer())
}

func TestInCallShowsStatus(t *testing.T) {
	ui := screentest.New(t)
	c := screentest.Get(ui, func() *InCall { return NewInCall(nil) })
	active := callcore.CallStatus{CallType: callcore.CallTypeAppToApp}.WithState(callcore.CallStateActive)
	for _, tc := range []struct {
		name                 string
		status               callcore.CallStatus
		mute, hold, speaker  string
		kind                 string
		muteImp, speakerImpt widget.Importance
	}{
		{"active", active, "Mute", "Hold", "Speaker", "App call", widget.MediumImportance, widget.MediumImportance},
		{"muted", active.WithMuted(true), "Unmute", "Hold", "Speaker", "App call · muted", widget.HighImportance, widget.MediumImportance},
		{"held", active.WithOnHold(true).WithMuted(true), "Unmute", "Resume", "Speaker", "App call · on hold", widget.HighImportance, widget.MediumImportance},
		{"held by the other side", active.WithRemoteOnHold(true), "Mute", "Hold", "Speaker", "App call · held by the other side", widget.MediumImportance, widget.MediumImportance},
		{"speaker", active.WithSpeakerOn(true), "Mute", "Hold", "Speaker off", "App call", widget.MediumImportance, widget.HighImportance},
		{"idle", callcore.CallStatus{}, "Mute", "Hold", "Speaker", "", widget.MediumImportance, widget.MediumImportance},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ui.Do(func() {
				c.Update(tc.status)
				assert.Equal(t, tc.mute, c.Mute.Text)
				assert.Equal(t, tc.hold, c.Hold.Text)
				assert.Equal(t, tc.speaker, c.Speaker.Text)
				assert.Equal(t, tc.kind, c.Kind.Text)
				assert.Equal(t, tc.muteImp, c.Mute.Importance)
				assert.Equal(t, tc.speakerImpt, c.Speaker.Importance)
			})
		})
	}
}

func TestIncomingAnswersOnce(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		call                  platform.IncomingCall
		title, caller, number string
		tap                   func(*Incoming) *widget.Button
		wantAction            platform.Action
	}{
		{"accept a named app user", platform.IncomingCall{CallID: "c1", Handle: "1002", CallerName: "Ada", CallType: "APPTOAPP"},
			"Incoming app call", "Ada", "1002",
			func(in *Incoming) *widget.Button { return in.Accept }, platform.ActionAccept},
		{"decline a phone number", platform.IncomingCall{CallID: "c2", Handle: "+14155550100", CallType: "Outbound"},
			"Incoming phone call", "+14155550100", "",
			func(in *Incoming) *widget.Button { return in.Decline }, platform.ActionDecline},
		{"a name that is the number", platform.IncomingCall{CallID: "c3", Handle: "90050", CallerName: "90050", CallType: "Inbound"},
			"Incoming call from a service number", "90050", "",
			func(in *Incoming) *widget.Button { return in.Accept }, platform.ActionAccept},
		{"an unknown call type", platform.IncomingCall{CallID: "c4", Handle: "1003", CallType: "video"},
			"Incoming call", "1003", "",
			func(in *Incoming) *widget.Button { return in.Decline }, platform.ActionDecline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ui := screentest.New(t)
			var got []platform.Action
			ui.Do(func() {
				in := NewIncoming()
				in.Show(tc.call, func(a platform.Action) { got = append(got, a) })
				assert.Equal(t, tc.title, in.Title.Text)
				assert.Equal(t, tc.caller, in.Caller.Text)
				assert.Equal(t, tc.number, in.Number.Text)
				assert.Equal(t, tc.call.CallID, in.CallID())
				test.Tap(tc.tap(in))
				test.Tap(in.Accept)
				test.Tap(in.Decline)
			})
			assert.Equal(t, []platform.Action{tc.wantAction}, got)
		})
	}
}

func TestDialerKeypadAndKeys(t *testing.T) {
	ui := screentest.New(t)
	d := screentest.Get(ui, func() *Dialer { return NewDialer(nil, func() string { return "1001" }, nil) })
	number := func() string { return screentest.Get(ui, func() string { return d.Number.Text }) }

	ui.Do(func() {
		for _, k := range []string{"9", "0", "0", "*", "#"} {
			test.Tap(d.Keypad.Keys[k])
		}
	})
	assert.Equal(t, "900*#", number())

	ui.Do(func() {
		d.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
		d.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
		for _, r := range "0a0 é+" {
			d.TypedRune(r)
		}
	})
	assert.Equal(t, "90000+", number())

	ui.Do(func() {
		d.Number.SetText("9é")
		d.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
	})
	assert.Equal(t, "9", number(), "backspace removes a whole character")
}

func TestDialerCallTypes(t *testing.T) {
	ui := screentest.New(t)
	d := screentest.Get(ui, func() *Dialer { return NewDialer(nil, func() string { return "1001" }, nil) })
	require.Len(t, CallChoices, 4)
	for _, c := range CallChoices {
		t.Run(c.Label, func(t *testing.T) {
			ui.Do(func() {
				d.Kind.SetSelected(c.Label)
				assert.Equal(t, c.Hint, d.Number.PlaceHolder)
			})
		})
	}
}

// Calling one's own number is caught before the SDK (nil here) is asked.
func TestDialerRefusesOwnNumber(t *testing.T) {
	ui := screentest.New(t)
	ui.Do(func() {
		d := NewDialer(nil, func() string { return "1001" }, nil)
		d.Kind.SetSelected("App user")
		test.Type(d.Number, "1001")
		test.Tap(d.Call)
		assert.Equal(t, "That is your own number. Enter a colleague's registered number.", d.Message.Text)
		assert.False(t, d.Call.Disabled())
	})
}

func TestDialerClearsTheErrorWhenTheNumberChanges(t *testing.T) {
	ui := screentest.New(t)
	ui.Do(func() {
		d := NewDialer(nil, func() string { return "1001" }, nil)
		d.Kind.SetSelected("App user")
		test.Type(d.Number, "1001")
		test.Tap(d.Call)
		require.NotEmpty(t, d.Message.Text)
		test.Tap(d.Keypad.Keys["2"])
		assert.Empty(t, d.Message.Text)
	})
}
