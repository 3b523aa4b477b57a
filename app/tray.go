package app

import (
	"runtime"

	"fyne.io/fyne/v2"
)

// tray is the system tray entry: the connection state, a way back to the
// window, hang-up while a call is on, and Quit. Used on the UI goroutine.
type tray struct {
	set    func(*fyne.Menu) // desktop.App.SetSystemTrayMenu
	menu   *fyne.Menu
	Status *fyne.MenuItem
	Show   *fyne.MenuItem
	Hangup *fyne.MenuItem
	Quit   *fyne.MenuItem
}

func newTray(set func(*fyne.Menu), show, hangup, quit func()) *tray {
	t := &tray{set: set}
	t.Status = fyne.NewMenuItem("Signing in…", nil)
	t.Status.Disabled = true // a label, not an action
	t.Show = fyne.NewMenuItem("Show OneCxi Phone", show)
	t.Hangup = fyne.NewMenuItem("Hang up", hangup)
	t.Hangup.Disabled = true
	// Our own Quit, marked as the menu's: Fyne then adds none of its own,
	// whose Quit would cut a call off without asking.
	t.Quit = fyne.NewMenuItem("Quit", quit)
	t.Quit.IsQuit = true
	t.menu = fyne.NewMenu("OneCxi Phone", t.Status, fyne.NewMenuItemSeparator(), t.Show, t.Hangup,
		fyne.NewMenuItemSeparator(), t.Quit)
	t.set(t.menu)
	return t
}

// update shows status and whether there is a call to hang up.
func (t *tray) update(status string, inCall bool) {
	if t.Status.Label == status && t.Hangup.Disabled == !inCall {
		return
	}
	t.Status.Label = status
	t.Hangup.Disabled = !inCall
	t.set(t.menu) // the desktop driver rebuilds the native menu from it
}

// trayAvailable reports whether a system tray can work here. On Linux and
// the BSDs the tray is a D-Bus service (StatusNotifierItem): without a
// session bus, Fyne's systray cannot connect and crashes when the app quits,
// so the app goes without a tray there.
func trayAvailable(getenv func(string) string) bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
		return getenv("DBUS_SESSION_BUS_ADDRESS") != ""
	}
	return true
}
