//go:build ios && !cgo

package platform

import "fmt"

// newObjCBridge has no bridge to give: the glue is Objective-C, reached
// through cgo. Such a build cannot be an app (Fyne's iOS driver needs cgo
// too); vet and tests build it.
func newObjCBridge() (appleBridge, error) {
	return nil, fmt.Errorf("it needs the CallKit/PushKit glue, and this build has none (built without cgo): %w", ErrUnsupported)
}

func setObjCReceiver(*iosPhone) {}
