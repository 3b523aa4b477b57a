package screens

import (
	"context"
	"fmt"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onecxi/phone/callcore"
)

// controlTimeout bounds one mute/hold/speaker/end request.
const controlTimeout = 5 * time.Second

// InCall is the screen of a live call. Its toggles show the state last
// reported by onCallStatusChanged and request the opposite explicitly, the
// guide's pattern: they never flip local state themselves. A banner on top
// says when the call's connection, this side's or the far party's, is lost
// and being restored; the timer runs on meanwhile, since the call does.
type InCall struct {
	sdk    *callcore.SDK
	status callcore.CallStatus
	since  time.Time // answered; zero while connecting or ringing
	now    func() time.Time

	// The call is being resumed: this phone's connection (reconnecting) or
	// the far party's (remoteReconnecting). Set by the status and by the
	// SDK's ReconnectCallback, which agree.
	reconnecting, remoteReconnecting bool

	Reconnecting *Banner
	Who          *widget.Label
	Kind         *widget.Label
	Timer        *widget.Label
	Quality      *QualityIndicator
	Mute         *widget.Button
	Hold         *widget.Button
	Speaker      *widget.Button
	Keypad       *Keypad
	Hangup       *widget.Button
	Message      *widget.Label
	content      fyne.CanvasObject
	tickStop     chan struct{}
	closed       chan struct{} // Close: the window is gone; no more ticks
	closeOnce    sync.Once
	closeDone    sync.Once
}

// NewInCall builds the in-call screen.
func NewInCall(sdk *callcore.SDK) *InCall {
	c := &InCall{sdk: sdk, now: time.Now}
	c.Reconnecting = NewBanner(theme.ViewRefreshIcon(), theme.ColorNameWarning, theme.ColorNameForegroundOnWarning)
	c.Who = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	c.Who.SizeName = theme.SizeNameHeadingText
	c.Who.Truncation = fyne.TextTruncateEllipsis
	c.Kind = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	c.Timer = widget.NewLabelWithStyle("00:00", fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
	c.Timer.SizeName = theme.SizeNameSubHeadingText
	c.Quality = NewQualityIndicator()
	c.Mute = widget.NewButtonWithIcon("Mute", theme.VolumeMuteIcon(), c.onMute)
	c.Hold = widget.NewButtonWithIcon("Hold", theme.MediaPauseIcon(), c.onHold)
	c.Speaker = widget.NewButtonWithIcon("Speaker", theme.VolumeUpIcon(), c.onSpeaker)
	c.Keypad = NewKeypad(c.onDigit)
	c.Hangup = widget.NewButtonWithIcon("End call", hangupIcon, c.onHangup)
	c.Hangup.Importance = widget.DangerImportance
	c.Message = widget.NewLabel("")
	c.Message.Wrapping = fyne.TextWrapWord
	c.content = container.NewBorder(
		container.NewVBox(c.Reconnecting, c.Who, c.Kind, c.Timer, c.Quality,
			tall(container.NewGridWithColumns(3, c.Mute, c.Hold, c.Speaker), toggleH), widget.NewSeparator()),
		container.NewVBox(tall(c.Hangup, bigButtonH), c.Message),
		nil, nil,
		c.Keypad.Content())
	return c
}

// Content is the screen's root object.
func (c *InCall) Content() fyne.CanvasObject { return c.content }

// SetClock replaces the clock the call timer reads (time.Now by default), so
// tests can show a known duration.
func (c *InCall) SetClock(now func() time.Time) { c.now = now }

// closedChan is the channel Close closes (made on first use).
func (c *InCall) closedChan() chan struct{} {
	c.closeOnce.Do(func() { c.closed = make(chan struct{}) })
	return c.closed
}

// Close stops the screen's own goroutine (the call timer) for good: the
// window is gone and its loop with it. Safe from any goroutine; it touches
// no widget.
func (c *InCall) Close() {
	ch := c.closedChan()
	c.closeDone.Do(func() { close(ch) })
}

// Begin shows a call being placed to who.
func (c *InCall) Begin(who string, t callcore.CallType) {
	c.Who.SetText(who)
	c.Kind.SetText(describeType(t))
	c.Timer.SetText("Connecting…")
	c.Message.SetText("")
	c.since = time.Time{}
	c.stopTicker()
	c.Quality.Reset()
	c.Hangup.Enable()
	c.Update(callcore.CallStatus{IsCallOngoing: true, CallType: t, CurrentDID: who}.WithState(callcore.CallStateConnecting))
}

// Started marks the call answered and starts the timer.
func (c *InCall) Started() {
	c.since = c.now()
	c.Timer.SetText("00:00")
	c.Quality.Start()
	c.stopTicker()
	stop := make(chan struct{})
	c.tickStop = stop
	closed := c.closedChan()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-closed:
				return
			case <-t.C:
				fyne.Do(c.refreshTimer)
			}
		}
	}()
}

func (c *InCall) refreshTimer() {
	if c.since.IsZero() {
		return
	}
	c.Timer.SetText(FormatDuration(c.now().Sub(c.since)))
}

// FormatDuration is a call timer's text: "04:05", or "1:02:03" from an hour.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// Update shows a status from onCallStatusChanged.
func (c *InCall) Update(s callcore.CallStatus) {
	c.status = s
	setToggle(c.Mute, s.IsMuted, "Unmute", "Mute")
	setToggle(c.Hold, s.IsOnHold, "Resume", "Hold")
	setToggle(c.Speaker, s.IsSpeakerOn, "Speaker off", "Speaker")
	if s.State == callcore.CallStateRinging && c.since.IsZero() {
		c.Timer.SetText("Ringing…")
	}
	kind := describeType(s.CallType)
	switch {
	case !s.IsCallOngoing:
	case s.IsOnHold:
		kind += " · on hold"
	case s.IsRemoteOnHold:
		kind += " · held by the other side"
	case s.IsMuted:
		kind += " · muted"
	}
	c.Kind.SetText(kind)
	c.reconnecting = s.IsCallOngoing && s.IsReconnecting
	c.remoteReconnecting = s.IsCallOngoing && s.IsRemoteReconnecting
	c.showReconnecting()
}

// SetReconnecting shows that the call's connection is lost and being
// restored (on), or is back: this phone's, or with remote the far party's
// (ReconnectCallback).
func (c *InCall) SetReconnecting(remote, on bool) {
	if remote {
		c.remoteReconnecting = on
	} else {
		c.reconnecting = on
	}
	c.showReconnecting()
}

// IsReconnecting reports whether this phone's connection to the call is
// being restored (for the window's status line).
func (c *InCall) IsReconnecting() bool { return c.reconnecting }

// showReconnecting puts up the banner for a connection being restored, or
// takes it down. This phone's own loss comes first: while it lasts, the
// far party's state is not known here anyway.
func (c *InCall) showReconnecting() {
	text := ""
	switch {
	case c.reconnecting:
		text = ReconnectingText
	case c.remoteReconnecting:
		text = RemoteReconnectingText(c.Who.Text)
	}
	if c.Reconnecting.Set(text) {
		c.content.Refresh()
	}
}

// ReconnectingText is the banner while this phone restores the call's
// connection.
const ReconnectingText = "Reconnecting… your connection was lost"

// RemoteReconnectingText is the banner while the far party, who, restores
// theirs.
func RemoteReconnectingText(who string) string {
	if who == "" {
		who = "The other party"
	}
	return who + " is reconnecting…"
}

// SetQuality shows a quality sample from the SDK (QualityCallback).
func (c *InCall) SetQuality(q callcore.CallQuality) {
	if c.since.IsZero() {
		return // not answered, or over: a late sample
	}
	c.Quality.Set(q)
}

// Reset clears everything after onCallEnded.
func (c *InCall) Reset() {
	c.stopTicker()
	c.since = time.Time{}
	c.Quality.Reset()
	c.Update(callcore.CallStatus{})
	c.Who.SetText("")
	c.Timer.SetText("00:00")
	c.Message.SetText("")
	c.Hangup.Enable()
}

func (c *InCall) stopTicker() {
	if c.tickStop != nil {
		close(c.tickStop)
		c.tickStop = nil
	}
}

func setToggle(b *widget.Button, on bool, onText, offText string) {
	if on {
		b.SetText(onText)
		b.Importance = widget.HighImportance
	} else {
		b.SetText(offText)
		b.Importance = widget.MediumImportance
	}
	b.Refresh()
}

// control runs one SDK request off the UI goroutine and shows its failure.
func (c *InCall) control(f func(ctx context.Context) error) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
		defer cancel()
		if err := f(ctx); err != nil {
			fyne.Do(func() { c.Message.SetText(ErrorText(err)) })
		}
	}()
}

func (c *InCall) onMute() {
	want := !c.status.IsMuted
	c.control(func(ctx context.Context) error { return c.sdk.MuteCall(ctx, want) })
}

func (c *InCall) onHold() {
	want := !c.status.IsOnHold
	c.control(func(ctx context.Context) error { return c.sdk.HoldCall(ctx, want) })
}

func (c *InCall) onSpeaker() {
	want := !c.status.IsSpeakerOn
	c.control(func(ctx context.Context) error { return c.sdk.SetSpeaker(ctx, want) })
}

// onHangup ends the call once: the button stays disabled until the call is
// over (Reset) or ending it failed.
func (c *InCall) onHangup() {
	if c.Hangup.Disabled() {
		return
	}
	c.Hangup.Disable()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
		defer cancel()
		if err := c.sdk.EndCall(ctx); err != nil {
			fyne.Do(func() {
				c.Hangup.Enable()
				c.Message.SetText(ErrorText(err))
			})
		}
	}()
}

func (c *InCall) onDigit(d string) {
	if err := c.sdk.SendDTMF(d); err != nil {
		c.Message.SetText(ErrorText(err))
	}
}

// TypedKey: Esc hangs up.
func (c *InCall) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape {
		c.onHangup()
	}
}

// TypedRune sends typed digits as DTMF.
func (c *InCall) TypedRune(r rune) {
	if r >= '0' && r <= '9' || r == '*' || r == '#' {
		c.onDigit(string(r))
	}
}

func describeType(t callcore.CallType) string {
	switch t {
	case callcore.CallTypeInbound:
		return "Service number"
	case callcore.CallTypeOutbound:
		return "Phone call"
	case callcore.CallTypeAppToApp:
		return "App call"
	}
	return ""
}
