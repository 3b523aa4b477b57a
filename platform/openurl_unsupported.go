//go:build android || ios || (darwin && !cgo)

package platform

import (
	"fmt"
	"runtime"
)

// listenOpenURL reports that links cannot reach this build: macOS delivers
// them as Apple Events, taken by Objective-C that needs cgo
// (openurl_darwin.m); Android (an intent filter) and iOS
// (application:openURL:options:) need glue that is not written yet.
func listenOpenURL() error {
	return fmt.Errorf("platform: links opened by the OS cannot reach a %s build without its native glue: %w", runtime.GOOS, ErrUnsupported)
}
