package app

import (
	"fmt"

	"fyne.io/fyne/v2/driver"

	"github.com/onecxi/phone/platform"
)

// runOnJVM is the Android platform's way into the Java VM
// (platform.WithAndroidNative): Fyne's driver.RunNative, which runs f on an
// OS thread attached to the VM and hands over Fyne's AndroidContext (the
// VM, that thread's JNIEnv and the app's Context). The platform package
// must not import Fyne, so the adapter is here, in the one package that
// does. Only the Android platform calls it; anywhere else RunNative gives
// no Java VM and it returns an error wrapping platform.ErrUnsupported.
func runOnJVM(f func(vm, env, ctx uintptr) error) error {
	return driver.RunNative(func(native any) error {
		ac, ok := native.(*driver.AndroidContext)
		if !ok {
			return fmt.Errorf("app: no Java VM on this platform (Fyne gave %T): %w", native, platform.ErrUnsupported)
		}
		return f(ac.VM, ac.Env, ac.Ctx)
	})
}
