package callcore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// A command-line client: a headless platform, no sound card, and the
// callbacks printed.
func ExampleNew() {
	ctx := context.Background()
	sdk := callcore.New(
		callcore.WithPlatform(platform.NewHeadless()),
		callcore.WithAudioDevice(func() (audio.Device, error) { return audio.NewNullDevice(), nil }),
	)
	defer func() {
		sdk.Dispose()
		// Dispose does not wait for callbacks: have the last events (the
		// call's end) printed before the program goes on.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sdk.FlushCallbacks(ctx)
	}()
	sdk.SetCallProgressCallback(callcore.CallbackFuncs{
		Started: func(t callcore.CallType, did, reg string) { fmt.Println("started", t, did) },
		Ended:   func(t callcore.CallType, did string) { fmt.Println("ended", t, did) },
		Error:   func(err error, t callcore.CallType) { fmt.Println("error:", err) },
	})
	if err := sdk.Initialize(ctx, "acme", "sk_live_…", "https://calls.example.com"); err != nil {
		log.Fatal(err)
	}
	switch err := sdk.StartAppToAppInboundCall(ctx, "1002", "1001"); {
	case err == nil:
	case callcore.ServerCode(err) == wire.CodeUnreachable:
		fmt.Println(callcore.DescribeServerCode(wire.CodeUnreachable)) // "The other user is offline"
		return
	default:
		log.Fatal(err)
	}
	_ = sdk.MuteCall(ctx, true)
	_ = sdk.EndCall(ctx)
}

// Handling a push payload exactly as FCM delivers it.
func ExampleParseIncomingCall() {
	d, err := callcore.ParseIncomingCall(map[string]any{
		"callFrom": "90050", "callTo": "9876543210", "callType": "Outbound",
		"registeredNumber": "9876543210", "callId": "call_abc123", "timestamp": "1711800000000",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.CallType, d.CallFrom, d.Timestamp.UnixMilli(), d.UUID() == d.CallKitMap()["id"])
	// Output: outbound 90050 1711800000000 true
}
