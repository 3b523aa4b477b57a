package app

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"

	"github.com/onecxi/phone/app/dialuri"
	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/wire"
)

// demoServiceNumbers are the built-in demo server's DIDs (echo, IVR): a link
// to one of them is a service number, not a phone number.
var demoServiceNumbers = []string{"90000", "90050"}

// linkCallType is the dialer's call type for a number a link asked for: a
// service number (DID) when it is one of the configured ones, otherwise a
// phone number.
func linkCallType(number string, serviceNumbers []string) callcore.CallType {
	if slices.Contains(serviceNumbers, number) {
		return callcore.CallTypeInbound
	}
	return callcore.CallTypeOutbound
}

// OpenLink puts the number of a click-to-call link (tel:, callto:, sip:)
// in the dialer and brings the window to the front. It places the call only
// when Settings says so (DialLinks) and no call is up; otherwise the user
// presses Call. A link that is not a phone number is refused with the
// parser's error, and the window says so; it is never dialled.
func (u *UI) OpenLink(link string, serviceNumbers []string) error {
	t, err := dialuri.Parse(link)
	if err != nil {
		u.Window.Show()
		u.Window.RequestFocus()
		u.Errors.SetText("This link cannot be dialled: " + err.Error())
		return err
	}
	u.Window.Show()
	u.Window.RequestFocus()
	u.Tabs.Select(u.PhoneTab)
	if u.inCall {
		// A call is up: the number waits in the dialer for after it.
		u.Errors.SetText(fmt.Sprintf("%s is in the dialer for after this call.", t.Number))
	}
	kind := linkCallType(t.Number, serviceNumbers)
	if u.DialLinks.Checked && !u.inCall {
		u.Dialer.Redial(t.Number, kind)
	} else {
		u.Dialer.Fill(t.Number, kind)
	}
	if t.Extension != "" {
		u.Dialer.Say(fmt.Sprintf("Extension %s: send it with the keypad once answered.", t.Extension))
	}
	return nil
}

// profileName names the single-instance channel of this start: the
// default profile (the saved account, or the demo server), or, when flags
// or the environment name an account or a number, that account's own — so
// a second phone started on purpose for another number (the demo banner's
// suggestion) runs side by side.
func profileName(c Config) string {
	if c.ServerURL == "" && c.Account == "" && c.Number == "" {
		return "default"
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{c.ServerURL, c.Account, c.Number}, "\x00")))
	return "p-" + hex.EncodeToString(sum[:8])
}

// openLinkLater opens link once the Fyne loop runs (fyne.Do queues).
func (p *Phone) openLinkLater(link string) {
	services := p.serviceNumbers()
	fyne.Do(func() {
		if err := p.UI.OpenLink(link, services); err != nil {
			p.log.Info("click-to-call link refused", "link", wire.Quote(link), "err", err)
			return
		}
		// What the dialer now shows, read back from its widgets.
		p.log.Info("click-to-call link opened", "dialer", p.UI.Dialer.Number.Text, "type", p.UI.Dialer.Kind.Selected)
	})
}

// serviceNumbers are the numbers a link dials as a service number: the
// configured ones, and the demo server's DIDs when it runs.
func (p *Phone) serviceNumbers() []string {
	out := append([]string(nil), p.Config.ServiceNumbers...)
	p.mu.Lock()
	demo := p.server != nil
	p.mu.Unlock()
	if demo {
		out = append(out, demoServiceNumbers...)
	}
	return out
}
