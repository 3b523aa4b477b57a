//go:build ios

package platform

// newPlatform is the iOS platform (iosphone.go) over the Objective-C glue
// (ios_objc.go and ios_glue.m: CallKit, PushKit, AVAudioSession,
// UserNotifications). There is no build without it: Go links iOS programs
// only with cgo.
func newPlatform(cfg config) Platform {
	b, why := newObjCBridge()
	return newIOSPhone(cfg, b, why, setObjCReceiver)
}
