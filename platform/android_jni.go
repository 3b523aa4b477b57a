//go:build android && cgo

package platform

/*
#include <stdlib.h>
#include "bridge_android.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// The C side copies at most as much of a Java string as Go takes.
const (
	_ = uint(C.ONECXI_MAX_STRING - maxJavaString)
	_ = uint(maxJavaString - C.ONECXI_MAX_STRING)
)

// jniBridge is the javaBridge over JNI: each call runs on a thread
// attached to the Java VM (through the JVMRunner, Fyne's RunNative in the
// app) and calls a static method of com.onecxi.phone.OneCxiBridge
// (bridge_android.c).
type jniBridge struct{ run JVMRunner }

func newJNIBridge(run JVMRunner) (javaBridge, error) {
	if run == nil {
		return nil, errNoJVM
	}
	return &jniBridge{run: run}, nil
}

// jniResult is what a method returned.
type jniResult struct {
	z    bool
	text javaText
}

// call calls m with args (int32 or string, as m's signature has them) and
// returns its result, or an error wrapping ErrNativeFailed when the call
// failed (no VM, no class or method, a Java exception).
func (b *jniBridge) call(m bridgeMethod, args ...any) (jniResult, error) {
	var res jniResult
	err := b.run(func(vm, env, ctx uintptr) error {
		var cargs [C.ONECXI_MAX_ARGS]C.onecxi_arg
		if len(args) > len(cargs) {
			return javaFailure(m.name, "too many arguments")
		}
		for i, a := range args {
			switch v := a.(type) {
			case int32:
				cargs[i].i = C.jint(v)
				cargs[i].is_int = 1
			case string:
				units := toJava(v)
				if len(units) > 0 {
					p := C.malloc(C.size_t(len(units)) * C.size_t(unsafe.Sizeof(C.jchar(0))))
					defer C.free(p)
					copy(unsafe.Slice((*uint16)(p), len(units)), units)
					cargs[i].chars = (*C.jchar)(p)
				}
				cargs[i].len = C.jsize(len(units))
			default:
				return javaFailure(m.name, "an argument of an unknown type")
			}
		}
		name, sig := C.CString(m.name), C.CString(m.sig)
		defer C.free(unsafe.Pointer(name))
		defer C.free(unsafe.Pointer(sig))
		var out C.onecxi_result
		C.onecxi_call(C.uintptr_t(vm), C.uintptr_t(env), C.uintptr_t(ctx), name, sig, C.char(m.returns()),
			&cargs[0], C.int(len(args)), &out)
		defer C.onecxi_free_text(&out.text)
		text := goText(out.text)
		if out.failed != 0 {
			return javaFailure(m.name, text.s)
		}
		res = jniResult{z: out.z != 0, text: text}
		return nil
	})
	if err != nil {
		var ne *nativeError
		if !errors.As(err, &ne) { // the runner's own: cannot attach, no VM
			err = javaFailure(m.name, err.Error())
		}
		return jniResult{}, err
	}
	return res, nil
}

// goText takes a string the C side copied out.
func goText(t C.onecxi_text) javaText {
	if t.chars == nil || t.len <= 0 {
		return fromJava(nil, int(t.full))
	}
	return fromJava(unsafe.Slice((*uint16)(unsafe.Pointer(t.chars)), int(t.len)), int(t.full))
}

// javaString copies a jstring Java passed to a native method.
func javaString(env *C.JNIEnv, s C.jstring) javaText {
	var t C.onecxi_text
	C.onecxi_copy_string(env, s, &t)
	defer C.onecxi_free_text(&t)
	return goText(t)
}

func (b *jniBridge) checkPermissions() (bool, error) {
	r, err := b.call(mCheckPermissions)
	return r.z, err
}

func (b *jniBridge) requestPermissions(requestCode int32) error {
	_, err := b.call(mRequestPermissions, requestCode)
	return err
}

func (b *jniBridge) requestFcmToken(requestCode int32) error {
	_, err := b.call(mRequestFcmToken, requestCode)
	return err
}

func (b *jniBridge) startCallService(callID, remote string) (string, error) {
	r, err := b.call(mStartCallService, callID, remote)
	return r.text.s, err
}

func (b *jniBridge) stopCallService() (string, error) {
	r, err := b.call(mStopCallService)
	return r.text.s, err
}

func (b *jniBridge) showIncomingCall(callID, callerName, callerNumber, callType string) (string, error) {
	r, err := b.call(mShowIncomingCall, callID, callerName, callerNumber, callType)
	return r.text.s, err
}

func (b *jniBridge) dismissIncomingCall(callID string) error {
	_, err := b.call(mDismissIncomingCall, callID)
	return err
}

func (b *jniBridge) setAudioRoute(route string) (string, error) {
	r, err := b.call(mSetAudioRoute, route)
	return r.text.s, err
}

func (b *jniBridge) takePendingIncomingCall() (string, error) {
	r, err := b.call(mTakePendingIncomingCall)
	return r.text.s, err
}

func (b *jniBridge) takePendingCallAction() (string, error) {
	r, err := b.call(mTakePendingCallAction)
	return r.text.s, err
}

func (b *jniBridge) storeRegisteredNumber(number string) (string, error) {
	r, err := b.call(mStoreRegisteredNumber, number)
	return r.text.s, err
}

func (b *jniBridge) registeredNumber() (string, error) {
	r, err := b.call(mRegisteredNumber)
	return r.text.s, err
}

// The native methods of OneCxiBridge. Java calls them on its own threads
// (the main thread, FCM's, a binder thread); each copies what it was given
// and hands it to the inbox, which never waits for the app.

//export Java_com_onecxi_phone_OneCxiBridge_nativePermissionsResult
func Java_com_onecxi_phone_OneCxiBridge_nativePermissionsResult(env *C.JNIEnv, cls C.jclass, requestCode C.jint, granted C.jboolean) {
	javaInbox.permissionsResult(int32(requestCode), granted != 0)
}

//export Java_com_onecxi_phone_OneCxiBridge_nativeFcmToken
func Java_com_onecxi_phone_OneCxiBridge_nativeFcmToken(env *C.JNIEnv, cls C.jclass, requestCode C.jint, token, errText C.jstring) {
	javaInbox.fcmToken(int32(requestCode), javaString(env, token), javaString(env, errText))
}

//export Java_com_onecxi_phone_OneCxiBridge_nativeTokenRefreshed
func Java_com_onecxi_phone_OneCxiBridge_nativeTokenRefreshed(env *C.JNIEnv, cls C.jclass, token C.jstring) {
	javaInbox.tokenRefreshed(javaString(env, token))
}

//export Java_com_onecxi_phone_OneCxiBridge_nativeIncomingPush
func Java_com_onecxi_phone_OneCxiBridge_nativeIncomingPush(env *C.JNIEnv, cls C.jclass, dataJSON C.jstring) C.jboolean {
	return jbool(javaInbox.incomingPush(javaString(env, dataJSON)))
}

//export Java_com_onecxi_phone_OneCxiBridge_nativeCallAction
func Java_com_onecxi_phone_OneCxiBridge_nativeCallAction(env *C.JNIEnv, cls C.jclass, callID, action C.jstring) C.jboolean {
	return jbool(javaInbox.callAction(javaString(env, callID), javaString(env, action)))
}

func jbool(b bool) C.jboolean {
	if b {
		return C.JNI_TRUE
	}
	return C.JNI_FALSE
}
