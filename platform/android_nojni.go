//go:build android && !cgo

package platform

import "fmt"

// newJNIBridge has no bridge to give: calling Java needs cgo (the JNI
// helpers are C, bridge_android.c). Such a build cannot be an app (Fyne's
// Android driver needs cgo too); it is what tests and vet use
// (make android-gocheck), with a fake bridge.
func newJNIBridge(run JVMRunner) (javaBridge, error) {
	if run == nil {
		return nil, errNoJVM
	}
	return nil, fmt.Errorf("it needs the JNI bridge, and this build has none (built without cgo): %w", ErrUnsupported)
}
