// bridge_android.h: the C half of the Android JNI bridge (bridge_android.c),
// called from android_jni.go. Plain C against <jni.h>: the NDK's on Android;
// make android-gocheck also parses it against the JDK's.

#ifndef ONECXI_BRIDGE_ANDROID_H
#define ONECXI_BRIDGE_ANDROID_H

#include <jni.h>
#include <stdint.h>

// The Java class whose static methods Go calls and whose native methods Go
// implements.
#define ONECXI_BRIDGE_CLASS "com.onecxi.phone.OneCxiBridge"

// The most of a Java string copied out, in UTF-16 units (android_jni.go
// checks that it equals Go's maxJavaString).
#define ONECXI_MAX_STRING 65536

// The most arguments after the Context a bridge method takes.
#define ONECXI_MAX_ARGS 4

// onecxi_text is a Java string copied out as UTF-16.
typedef struct {
	jchar *chars; // malloc'd (onecxi_free_text); NULL for null, empty, or no memory
	jsize len;    // units in chars: at most ONECXI_MAX_STRING
	jsize full;   // the string's length; more than len when it was cut
} onecxi_text;

// onecxi_arg is one argument after the Context.
typedef struct {
	const jchar *chars; // a String's UTF-16 units (may be NULL when len is 0)
	jsize len;
	jint i;     // an int
	int is_int; // 1: the argument is i; 0: it is the String
} onecxi_arg;

// onecxi_result is what a call gave.
typedef struct {
	int failed;       // 1: the call failed, and text says why; 0: it returned
	jboolean z;       // a boolean method's result
	onecxi_text text; // a String method's result (chars NULL for null), or why it failed
} onecxi_result;

// onecxi_call calls the static method name (JNI signature sig) of
// ONECXI_BRIDGE_CLASS with ctx (an android.content.Context) and the nargs
// args, which must match sig; ret is 'V', 'Z' or 'S' (String), the return
// type. vm and env are a JavaVM* and the calling thread's JNIEnv*: with vm
// the thread is attached if it is not (and detached again); env may then be
// 0. A Java exception, or a class or method not found, is cleared and
// reported in out (failed, and the exception's toString()). Local
// references are released before it returns. Safe on any thread.
void onecxi_call(uintptr_t vm, uintptr_t env, uintptr_t ctx, const char *name, const char *sig, char ret,
                 const onecxi_arg *args, int nargs, onecxi_result *out);

// onecxi_copy_string copies at most ONECXI_MAX_STRING units of s (which
// may be NULL) into out. It never leaves an exception pending.
void onecxi_copy_string(JNIEnv *env, jstring s, onecxi_text *out);

// onecxi_free_text frees what onecxi_copy_string or onecxi_call put in t.
void onecxi_free_text(onecxi_text *t);

#endif
