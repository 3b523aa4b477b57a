package app

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/screens/screentest"
)

// A call that came while the app was not running, and still rings, rings
// once the app has signed in (kill-state recovery; on desktop the previous
// run kept it in the SDK's Store).
func TestSignInRingsACallThatCameWhileClosed(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // the test app's storage root
	ui := screentest.New(t)
	root := ui.App().Storage().RootURI().Path()

	// The previous run: the push arrived, then the app was gone.
	before := callcore.New(
		callcore.WithPlatform(platform.NewHeadless()),
		callcore.WithStore(callcore.NewFileStore(filepath.Join(root, "callcore.json"))),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, before.HandleIncomingCallWithUI(ctx, map[string]any{
		"callFrom": otherNum, "callTo": ownNum, "callType": "APPTOAPP", "registeredNumber": ownNum,
		"callerName": "Bob", "callId": "c_kept", "timestamp": strconv.FormatInt(time.Now().UnixMilli(), 10),
	}))
	before.Dispose()

	ph := startPhone(t, ui, Config{})
	ph.waitFor(t, "signed in", func(u *UI) bool { return strings.HasPrefix(u.Status.Text, "● Online as "+ownNum) })
	ph.waitScreen(t, "incoming")
	assert.Equal(t, "c_kept", screentest.Get(ui, func() string { return ph.p.UI.Incoming.CallID() }))
	assert.Equal(t, ownNum, ph.p.SDK.RegisteredNumber(), "sign-in keeps the number for kill-state recovery")
}

// runOnJVM finds no Java VM off Android, and says so with ErrUnsupported.
func TestRunOnJVMOffAndroid(t *testing.T) {
	called := false
	err := runOnJVM(func(vm, env, ctx uintptr) error { called = true; return nil })
	assert.True(t, errors.Is(err, platform.ErrUnsupported), "%v", err)
	assert.False(t, called)
}

// The app's wrapper around the platform hides nothing from platform.As.
func TestDismissNotifierUnwraps(t *testing.T) {
	h := platform.NewHeadless()
	var dn platform.Platform = dismissNotifier{Platform: h, dismissed: func(string) {}}
	w, ok := platform.As[platform.NetworkWatcher](dn)
	assert.True(t, ok)
	assert.Same(t, h, w.(*platform.Headless))
}
