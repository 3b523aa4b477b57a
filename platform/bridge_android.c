//go:build android

// bridge_android.c: the C half of the Android JNI bridge. Go
// (android_jni.go) calls onecxi_call for each static method of
// com.onecxi.phone.OneCxiBridge, and the native methods Java calls are Go
// functions exported from android_jni.go, which copy their strings out
// with onecxi_copy_string. Strings cross as UTF-16 (NewString,
// GetStringRegion), never as JNI's modified UTF-8, so no text can make the
// VM abort and a NUL or an emoji arrives intact.

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bridge_android.h"
#include "_cgo_export.h"

// The Go functions Java's native methods bind to have the types JNI calls
// them with (static native methods: JNIEnv*, jclass, then the arguments).
#define ONECXI_NATIVE_TYPE(fn, type) \
	_Static_assert(__builtin_types_compatible_p(__typeof__(fn), type), #fn " does not have the JNI type " #type)
ONECXI_NATIVE_TYPE(Java_com_onecxi_phone_OneCxiBridge_nativePermissionsResult, void(JNIEnv *, jclass, jint, jboolean));
ONECXI_NATIVE_TYPE(Java_com_onecxi_phone_OneCxiBridge_nativeFcmToken, void(JNIEnv *, jclass, jint, jstring, jstring));
ONECXI_NATIVE_TYPE(Java_com_onecxi_phone_OneCxiBridge_nativeTokenRefreshed, void(JNIEnv *, jclass, jstring));
ONECXI_NATIVE_TYPE(Java_com_onecxi_phone_OneCxiBridge_nativeIncomingPush, jboolean(JNIEnv *, jclass, jstring));
ONECXI_NATIVE_TYPE(Java_com_onecxi_phone_OneCxiBridge_nativeCallAction, jboolean(JNIEnv *, jclass, jstring, jstring));

// The bridge class, found once through the Context's class loader and kept
// as a global reference.
static pthread_mutex_t bridge_mu = PTHREAD_MUTEX_INITIALIZER;
static jclass bridge_class;

// set_ascii puts an ASCII message into t as UTF-16.
static void set_ascii(onecxi_text *t, const char *msg) {
	size_t n = strlen(msg);
	t->chars = NULL;
	t->len = 0;
	t->full = (jsize)n;
	if (n == 0) {
		return;
	}
	t->chars = malloc(n * sizeof(jchar));
	if (t->chars == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		t->chars[i] = (jchar)(unsigned char)msg[i];
	}
	t->len = (jsize)n;
}

void onecxi_free_text(onecxi_text *t) {
	free(t->chars);
	t->chars = NULL;
	t->len = 0;
	t->full = 0;
}

void onecxi_copy_string(JNIEnv *env, jstring s, onecxi_text *out) {
	out->chars = NULL;
	out->len = 0;
	out->full = 0;
	if (s == NULL) {
		return;
	}
	jsize full = (*env)->GetStringLength(env, s);
	jsize n = full < ONECXI_MAX_STRING ? full : ONECXI_MAX_STRING;
	out->full = full;
	if (n <= 0) {
		return;
	}
	jchar *buf = malloc((size_t)n * sizeof(jchar));
	if (buf == NULL) {
		return; // full > len: Go sees it as cut
	}
	(*env)->GetStringRegion(env, s, 0, n, buf);
	if ((*env)->ExceptionCheck(env)) {
		(*env)->ExceptionClear(env);
		free(buf);
		return;
	}
	out->chars = buf;
	out->len = n;
}

// fail marks out failed with the pending exception's toString(), or with
// what when there is none (or its text cannot be had). It clears the
// exception.
static void fail(JNIEnv *env, onecxi_result *out, const char *what) {
	out->failed = 1;
	onecxi_free_text(&out->text);
	if (env == NULL || !(*env)->ExceptionCheck(env)) {
		set_ascii(&out->text, what);
		return;
	}
	jthrowable exc = (*env)->ExceptionOccurred(env);
	(*env)->ExceptionClear(env);
	jclass throwable = (*env)->FindClass(env, "java/lang/Throwable");
	jmethodID toString = NULL;
	if (throwable != NULL) {
		toString = (*env)->GetMethodID(env, throwable, "toString", "()Ljava/lang/String;");
	}
	jstring text = NULL;
	if (toString != NULL && exc != NULL) {
		text = (jstring)(*env)->CallObjectMethod(env, exc, toString);
	}
	if ((*env)->ExceptionCheck(env)) { // toString itself threw
		(*env)->ExceptionClear(env);
		text = NULL;
	}
	if (text == NULL) {
		set_ascii(&out->text, what);
		return;
	}
	onecxi_copy_string(env, text, &out->text);
}

// find_bridge returns the bridge class. FindClass cannot be used: on a
// thread attached from native code it searches the system class loader,
// which does not know the app's classes, so the Context's loader is asked.
static jclass find_bridge(JNIEnv *env, jobject ctx, onecxi_result *out) {
	pthread_mutex_lock(&bridge_mu);
	jclass found = bridge_class;
	pthread_mutex_unlock(&bridge_mu);
	if (found != NULL) {
		return found;
	}
	jclass ctxClass = (*env)->GetObjectClass(env, ctx);
	jmethodID getClassLoader = (*env)->GetMethodID(env, ctxClass, "getClassLoader", "()Ljava/lang/ClassLoader;");
	if (getClassLoader == NULL) {
		fail(env, out, "the Context has no getClassLoader()");
		return NULL;
	}
	jobject loader = (*env)->CallObjectMethod(env, ctx, getClassLoader);
	if ((*env)->ExceptionCheck(env) || loader == NULL) {
		fail(env, out, "the Context has no class loader");
		return NULL;
	}
	jclass loaderClass = (*env)->FindClass(env, "java/lang/ClassLoader");
	jmethodID loadClass = loaderClass == NULL ? NULL :
		(*env)->GetMethodID(env, loaderClass, "loadClass", "(Ljava/lang/String;)Ljava/lang/Class;");
	if (loadClass == NULL) {
		fail(env, out, "java.lang.ClassLoader.loadClass not found");
		return NULL;
	}
	jstring name = (*env)->NewStringUTF(env, ONECXI_BRIDGE_CLASS); // ASCII: no modified-UTF-8 concerns
	if (name == NULL) {
		fail(env, out, "out of memory");
		return NULL;
	}
	jobject cls = (*env)->CallObjectMethod(env, loader, loadClass, name);
	if ((*env)->ExceptionCheck(env) || cls == NULL) {
		fail(env, out, "class " ONECXI_BRIDGE_CLASS " not found");
		return NULL;
	}
	jclass global = (jclass)(*env)->NewGlobalRef(env, cls);
	if (global == NULL) {
		fail(env, out, "out of memory");
		return NULL;
	}
	pthread_mutex_lock(&bridge_mu);
	if (bridge_class == NULL) {
		bridge_class = global;
		global = NULL;
	}
	found = bridge_class;
	pthread_mutex_unlock(&bridge_mu);
	if (global != NULL) { // another thread was first
		(*env)->DeleteGlobalRef(env, global);
	}
	return found;
}

// call_in_frame is onecxi_call on an attached thread, inside a local frame.
static void call_in_frame(JNIEnv *env, jobject ctx, const char *name, const char *sig, char ret,
                          const onecxi_arg *args, int nargs, onecxi_result *out) {
	static const jchar empty[1] = {0};
	jclass cls = find_bridge(env, ctx, out);
	if (cls == NULL) {
		return;
	}
	jmethodID m = (*env)->GetStaticMethodID(env, cls, name, sig);
	if (m == NULL) {
		fail(env, out, "method not found");
		return;
	}
	jvalue jargs[1 + ONECXI_MAX_ARGS];
	memset(jargs, 0, sizeof jargs);
	jargs[0].l = ctx;
	for (int i = 0; i < nargs; i++) {
		if (args[i].is_int) {
			jargs[i + 1].i = args[i].i;
			continue;
		}
		jstring s = (*env)->NewString(env, args[i].chars != NULL ? args[i].chars : empty, args[i].len);
		if (s == NULL) {
			fail(env, out, "out of memory");
			return;
		}
		jargs[i + 1].l = s;
	}
	jobject r = NULL;
	switch (ret) {
	case 'V':
		(*env)->CallStaticVoidMethodA(env, cls, m, jargs);
		break;
	case 'Z':
		out->z = (*env)->CallStaticBooleanMethodA(env, cls, m, jargs);
		break;
	case 'S':
		r = (*env)->CallStaticObjectMethodA(env, cls, m, jargs);
		break;
	default:
		fail(env, out, "unknown return type");
		return;
	}
	if ((*env)->ExceptionCheck(env)) {
		fail(env, out, "exception");
		return;
	}
	if (ret == 'S') {
		onecxi_copy_string(env, (jstring)r, &out->text);
	}
}

void onecxi_call(uintptr_t vmp, uintptr_t envp, uintptr_t ctxp, const char *name, const char *sig, char ret,
                 const onecxi_arg *args, int nargs, onecxi_result *out) {
	JavaVM *vm = (JavaVM *)vmp;
	JNIEnv *env = (JNIEnv *)envp;
	jobject ctx = (jobject)ctxp;
	int attached = 0;

	memset(out, 0, sizeof *out);
	if (nargs < 0 || nargs > ONECXI_MAX_ARGS) {
		fail(NULL, out, "too many arguments");
		return;
	}
	if (vm != NULL) {
		JNIEnv *cur = NULL;
		jint st = (*vm)->GetEnv(vm, (void **)&cur, JNI_VERSION_1_6);
		if (st == JNI_EDETACHED) {
			// (void *): the NDK declares JNIEnv **, the JDK void **.
			if ((*vm)->AttachCurrentThread(vm, (void *)&cur, NULL) != JNI_OK) {
				fail(NULL, out, "cannot attach the thread to the Java VM");
				return;
			}
			attached = 1;
		} else if (st != JNI_OK) {
			fail(NULL, out, "cannot get the thread's JNIEnv");
			return;
		}
		env = cur;
	}
	if (env == NULL) {
		fail(NULL, out, "no Java VM");
		return;
	}
	if (ctx == NULL) {
		fail(NULL, out, "no Android Context");
	} else if ((*env)->ExceptionCheck(env)) {
		// JNI may not be called with an exception pending; it is not ours
		// to report, and failing would hide every call after it.
		(*env)->ExceptionClear(env);
	}
	if (!out->failed) {
		if ((*env)->PushLocalFrame(env, 16) != 0) {
			fail(env, out, "out of local references");
		} else {
			call_in_frame(env, ctx, name, sig, ret, args, nargs, out);
			(*env)->PopLocalFrame(env, NULL);
		}
	}
	if (attached) {
		(*vm)->DetachCurrentThread(vm);
	}
}
