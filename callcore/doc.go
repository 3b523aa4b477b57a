// Package callcore is the OneCxi calling SDK for Go: the vendor Flutter SDK's
// API (OneCxi Flutter SDK guide, sections 6-13 and 17) in idiomatic Go, on
// top of the OneCxi protocol (package wire, PROTOCOL.md), the OS integration
// (package platform) and the audio pipeline (package audio).
//
// # Shape
//
// [SDK] is the guide's OneCxiSdk. [Default] returns the process-wide
// instance (the guide's singleton); [New] builds an independent one with
// [Option]s, which is what tests, CLIs and apps with their own platform or
// audio device use. Every blocking method takes a context first. Every error
// is an *[Error] with one of the guide's fifteen [ErrorKind]s, matched with
// errors.Is(err, callcore.ErrCallInProgress) or [KindOf]; a server's reason
// (unreachable, busy, no_answer, …) is kept in the chain and read with
// [ServerCode].
//
// The app learns what happens through one [CallProgressCallback] (or
// [CallbackFuncs]), registered with [SDK.SetCallProgressCallback]. Events are
// delivered in order on a dispatcher goroutine, never while the SDK holds a
// lock, and a slow callback never blocks the SDK.
//
// Nothing in the SDK asks which goroutine calls it; two rules take the place
// of that. [SDK.Dispose] never waits for callback delivery: it ends the call,
// stops the listener and waits for its own background work, and the events
// queued by then (the call's onCallEnded among them) are still delivered in
// order, possibly after it returns. So a callback may call Dispose, and a
// caller that needs the last events before going on calls
// [SDK.FlushCallbacks] after Dispose. FlushCallbacks waits for every callback
// queued so far, the running one included, so it must not be called from
// inside a callback: there it returns only when its context ends, with the
// context's error.
//
// # A call
//
//	sdk := callcore.Default()
//	sdk.SetCallProgressCallback(callcore.CallbackFuncs{
//		Started: func(t callcore.CallType, did, reg string) { log.Printf("%s call with %s", t, did) },
//		Ended:   func(t callcore.CallType, did string) { log.Print("call ended") },
//		Error:   func(err error, t callcore.CallType) { log.Print(err) },
//	})
//	if err := sdk.Initialize(ctx, "acme", apiKey, "https://calls.example.com"); err != nil {
//		return err // ErrInvalidInput, ErrInitializationFailed, ErrWebSocketConnectionFailed
//	}
//	if ok, _ := sdk.RequestPermissions(ctx); !ok {
//		return errors.New("microphone permission refused")
//	}
//	if err := sdk.StartInBoundCall(ctx, "90050", "9876543210"); err != nil {
//		if callcore.ServerCode(err) == wire.CodeUnreachable {
//			// "The other user is offline"
//		}
//		return err
//	}
//	_ = sdk.MuteCall(ctx, true) // explicit values, no toggles
//	_ = sdk.SendDTMF("1")
//	_ = sdk.EndCall(ctx)
//
// A Start method returns when the server's first reply arrives: nil once the
// far end rings or answers (onCallStarted fires on answer, onCallEnded once
// when the call ends, however it ends), or an error if the call could not be
// placed (then no started/ended callbacks fire for it).
//
// # Incoming calls
//
// Pass every push payload (FCM data, VoIP push) to
// [SDK.HandleIncomingCallWithUI]; it validates it, ignores duplicates and
// stale pushes, remembers the call as pending and shows the platform's
// incoming-call UI. The user's accept or decline comes back from the platform
// to [SDK.AcceptIncomingCall] / [SDK.DeclineIncomingCall]. A desktop app
// without a push service calls [SDK.ListenForIncomingCalls], which keeps the
// server's events connection open and does the same for each event. Either
// way the payload is decoded once, into an [IncomingCallData]
// ([ParseIncomingCall] for a push's map, [IncomingCallFromPush] for the
// events connection's typed push); that value is what is deduplicated,
// stored for [SDK.CheckPendingIncomingCall] and shown.
//
// # Extensions over the guide
//
// CallStatus.State, IsRemoteOnHold and CallID; AcceptIncomingCall,
// DeclineIncomingCall; ListenForIncomingCalls, StopListening, IsListening;
// NetworkChanged (the device's network changed: a lost events connection
// redials at once); CallStats; call quality ([SDK.CallQuality], [QualityCallback]: RTT,
// jitter, loss, concealment and an E-model MOS every second, with
// warnings); RegisteredNumber; ServerCode, KindFromServerCode and
// DescribeServerCode; the Store interface for kill-state data.
//
// Methods that only touch the device (permissions, tokens, platform name,
// HandleIncomingCallWithUI, pending-call checks, StoreRegisteredNumber) work
// before Initialize, because a push can wake an app that has not initialized
// yet; everything that talks to the call server or needs a call returns
// ErrNotInitialized until Initialize succeeds. After Dispose every method
// returns ErrNotInitialized.
package callcore
