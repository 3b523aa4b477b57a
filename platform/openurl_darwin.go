//go:build !ios && cgo

package platform

/*
#cgo LDFLAGS: -framework Foundation -framework AppKit
#include <stddef.h>

void onecxiListenOpenURL(void);
*/
import "C"

import "unsafe"

// listenOpenURL installs the Get URL Apple Event handler (openurl_darwin.m).
// It may be called on any thread; the handler is installed on the main one.
func listenOpenURL() error {
	C.onecxiListenOpenURL()
	return nil
}

// onecxiOpenURL receives a link's UTF-8 bytes from the Apple Event handler,
// on the main thread: it copies them and queues the link, never waiting for
// the app. The length is passed, not a NUL ending, so a NUL inside the link
// reaches the app's checks instead of cutting the link short.
//
//export onecxiOpenURL
func onecxiOpenURL(p *C.char, n C.size_t) {
	deliverOpenURL(string(unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))))
}
