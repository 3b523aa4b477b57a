// Package push delivers the guide's incoming-call push payload to devices
// whose app is not online: APNs VoIP pushes for iOS (package push/apns) and
// FCM data messages for Android (package push/fcm), both behind the small
// [Transport] interface.
//
// A [Pusher] runs a few workers with bounded queues, so the caller (the
// server's registry goroutine) only ever enqueues. A device's pushes always
// go through the same worker, so a phone never gets a call's "end" before
// its "initial"; what a provider defers (429, 5xx) is retried with backoff
// unless the call's "end" has gone out meanwhile; a token the provider
// reports dead is forgotten in the device store ([TokenDropper]).
//
// This package itself imports no provider SDK: the phone's embedded demo
// server links it without APNs, FCM or Google API code. Package
// server/providers opens the transports a configuration names; tests use
// the fake providers of package push/pushtest.
package push
