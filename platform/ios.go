//go:build ios

package platform

// newPlatform is the iOS platform (iosphone.go) over the Objective-C glue
// (ios_objc.go and ios_glue.m: CallKit, PushKit, AVAudioSession,
// UserNotifications). A build without cgo has no glue (ios_noobjc.go), and
// each native operation then reports ErrUnsupported saying so; Fyne's iOS
// driver needs cgo, so only vet and tests build that way.
func newPlatform(cfg config) Platform {
	b, why := newObjCBridge()
	p := newIOSPhone(cfg, b, why)
	if b != nil {
		setObjCReceiver(p)
	}
	return p
}
