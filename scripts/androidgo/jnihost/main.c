// main.c: runs the C half of the Android JNI bridge
// (platform/bridge_android.c) against a real JVM on this host, for make
// android-gocheck. HotSpot with -Xcheck:jni stands in for ART; a test
// double of OneCxiBridge (java/com/onecxi/phone/OneCxiBridge.java, the
// contract's methods) and a Context stand-in are loaded by their own
// URLClassLoader, so that, as for an app's classes on Android, FindClass
// cannot see them and the bridge must go through the Context's loader.
//
// Every call is made twice: on the thread that created the VM (with its
// JNIEnv, as Fyne's RunNative gives one) and on a new thread with only the
// JavaVM (the bridge attaches and detaches it). Exit status 0 when every
// check passed.

#include <jni.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge_android.h"

static int failures;
static int checks;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		checks++;                                                 \
		if (!(cond)) {                                            \
			failures++;                                       \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                     \
			fputc('\n', stderr);                              \
		}                                                         \
	} while (0)

static JavaVM *vm;
static jobject ctx; // a global reference to the TestContext

// units holds UTF-16 built from ASCII, for arguments and expectations.
typedef struct {
	jchar u[256];
	jsize n;
} units;

static units ascii(const char *s) {
	units r;
	r.n = 0;
	while (*s && r.n < 256) {
		r.u[r.n++] = (jchar)(unsigned char)*s++;
	}
	return r;
}

static void append(units *r, const jchar *u, jsize n) {
	for (jsize i = 0; i < n && r->n < 256; i++) {
		r->u[r->n++] = u[i];
	}
}

static int text_is(const onecxi_text *t, const units *want) {
	if (t->len != want->n || t->full != want->n) {
		return 0;
	}
	return want->n == 0 || memcmp(t->chars, want->u, (size_t)want->n * sizeof(jchar)) == 0;
}

static int text_starts(const onecxi_text *t, const char *prefix) {
	units p = ascii(prefix);
	return t->len >= p.n && memcmp(t->chars, p.u, (size_t)p.n * sizeof(jchar)) == 0;
}

static onecxi_arg str_arg(const units *u) {
	onecxi_arg a;
	memset(&a, 0, sizeof a);
	a.chars = u->u;
	a.len = u->n;
	return a;
}

static onecxi_arg int_arg(jint i) {
	onecxi_arg a;
	memset(&a, 0, sizeof a);
	a.i = i;
	a.is_int = 1;
	return a;
}

#define CTX "(Landroid/content/Context;"
#define STR "Ljava/lang/String;"

// suite runs every case; env is 0 on a thread the bridge must attach.
static void suite(JNIEnv *env, const char *where) {
	uintptr_t e = (uintptr_t)env;
	onecxi_result r;

	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "checkPermissions", CTX ")Z", 'Z', NULL, 0, &r);
	CHECK(!r.failed && r.z == JNI_TRUE, "%s: checkPermissions", where);
	onecxi_free_text(&r.text);

	onecxi_arg code = int_arg(42);
	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "requestPermissions", CTX "I)V", 'V', &code, 1, &r);
	CHECK(!r.failed, "%s: requestPermissions", where);
	onecxi_free_text(&r.text);

	// A NUL, an emoji (a surrogate pair) and a lone surrogate survive the
	// round trip through Java.
	units id = ascii("c");
	const jchar odd[] = {0, 'x', 0xD83D, 0xDCDE, 0xD800};
	append(&id, odd, 5);
	onecxi_arg idArg = str_arg(&id);
	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "dismissIncomingCall", CTX STR ")V", 'V', &idArg, 1, &r);
	CHECK(!r.failed, "%s: dismissIncomingCall", where);
	onecxi_free_text(&r.text);
	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "registeredNumber", CTX ")" STR, 'S', NULL, 0, &r);
	units want = ascii("42/");
	append(&want, id.u, id.n);
	CHECK(!r.failed && text_is(&r.text, &want), "%s: the request code and the odd call ID came back (len %d)", where, (int)r.text.len);
	onecxi_free_text(&r.text);

	onecxi_arg seven = int_arg(7);
	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "requestFcmToken", CTX "I)V", 'V', &seven, 1, &r);
	CHECK(r.failed && text_starts(&r.text, "java.lang.IllegalStateException: Firebase is not here: 7"),
	      "%s: an exception is reported with its toString", where);
	onecxi_free_text(&r.text);

	units empty = ascii(""), title = ascii("OneCxi call");
	onecxi_arg two[2] = {str_arg(&empty), str_arg(&title)};
	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "startCallService", CTX STR STR ")" STR, 'S', two, 2, &r);
	units echo = ascii("echo:|OneCxi call");
	CHECK(!r.failed && text_is(&r.text, &echo), "%s: startCallService with an empty call ID", where);
	onecxi_free_text(&r.text);

	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "stopCallService", CTX ")" STR, 'S', NULL, 0, &r);
	CHECK(!r.failed && r.text.chars == NULL && r.text.full == 0, "%s: a null String", where);
	onecxi_free_text(&r.text);

	units name = ascii("Zo");
	const jchar e_umlaut[] = {0x00EB};
	append(&name, e_umlaut, 1);
	units num = ascii("+14155550100"), typ = ascii("APPTOAPP");
	onecxi_arg four[4] = {str_arg(&id), str_arg(&name), str_arg(&num), str_arg(&typ)};
	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "showIncomingCall", CTX STR STR STR STR ")" STR, 'S', four, 4, &r);
	units joined = id;
	const jchar bar[] = {'|'};
	append(&joined, bar, 1);
	append(&joined, name.u, name.n);
	append(&joined, bar, 1);
	append(&joined, num.u, num.n);
	append(&joined, bar, 1);
	append(&joined, typ.u, typ.n);
	CHECK(!r.failed && text_is(&r.text, &joined), "%s: showIncomingCall's four strings", where);
	onecxi_free_text(&r.text);

	units route = ascii("speaker");
	onecxi_arg routeArg = str_arg(&route);
	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "setAudioRoute", CTX STR ")" STR, 'S', &routeArg, 1, &r);
	units invalid = ascii("invalid: route speaker");
	CHECK(!r.failed && text_is(&r.text, &invalid), "%s: a kind: message answer", where);
	onecxi_free_text(&r.text);

	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "takePendingIncomingCall", CTX ")" STR, 'S', NULL, 0, &r);
	CHECK(!r.failed && r.text.len == ONECXI_MAX_STRING && r.text.full == 70000 && r.text.chars[0] == 'x',
	      "%s: a long String is cut at ONECXI_MAX_STRING (len %d, full %d)", where, (int)r.text.len, (int)r.text.full);
	onecxi_free_text(&r.text);

	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "takePendingCallAction", CTX ")" STR, 'S', NULL, 0, &r);
	CHECK(!r.failed && r.text.chars == NULL && r.text.full == 0, "%s: an empty String", where);
	onecxi_free_text(&r.text);

	units number = ascii("1002");
	onecxi_arg numberArg = str_arg(&number);
	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "storeRegisteredNumber", CTX STR ")" STR, 'S', &numberArg, 1, &r);
	units fallback = ascii("exception");
	CHECK(r.failed && text_is(&r.text, &fallback), "%s: an exception whose toString throws", where);
	onecxi_free_text(&r.text);

	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "noSuchMethod", CTX ")V", 'V', NULL, 0, &r);
	CHECK(r.failed && text_starts(&r.text, "java.lang.NoSuchMethodError"), "%s: a missing method", where);
	onecxi_free_text(&r.text);

	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "checkPermissions", CTX ")V", 'V', NULL, 0, &r);
	CHECK(r.failed && text_starts(&r.text, "java.lang.NoSuchMethodError"), "%s: a wrong signature", where);
	onecxi_free_text(&r.text);

	onecxi_call((uintptr_t)vm, e, 0, "checkPermissions", CTX ")Z", 'Z', NULL, 0, &r);
	units noCtx = ascii("no Android Context");
	CHECK(r.failed && text_is(&r.text, &noCtx), "%s: no Context", where);
	onecxi_free_text(&r.text);

	onecxi_arg many[5];
	onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "checkPermissions", CTX ")Z", 'Z', many, 5, &r);
	CHECK(r.failed, "%s: too many arguments", where);
	onecxi_free_text(&r.text);

	// Many calls: local references are released (CheckJNI warns past its
	// capacity) and nothing is left pending.
	for (int i = 0; i < 3000; i++) {
		onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "showIncomingCall", CTX STR STR STR STR ")" STR, 'S', four, 4, &r);
		onecxi_free_text(&r.text);
		onecxi_call((uintptr_t)vm, e, (uintptr_t)ctx, "requestFcmToken", CTX "I)V", 'V', &seven, 1, &r);
		onecxi_free_text(&r.text);
	}
	if (env != NULL) {
		CHECK(!(*env)->ExceptionCheck(env), "%s: an exception was left pending", where);
	}
}

static void *on_new_thread(void *arg) {
	(void)arg;
	JNIEnv *env = NULL;
	CHECK((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_6) == JNI_EDETACHED, "the new thread starts detached");
	suite(NULL, "attached by the bridge");
	CHECK((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_6) == JNI_EDETACHED, "the bridge detached the thread again");

	onecxi_result r;
	onecxi_call(0, 0, (uintptr_t)ctx, "checkPermissions", CTX ")Z", 'Z', NULL, 0, &r);
	units noVM = ascii("no Java VM");
	CHECK(r.failed && text_is(&r.text, &noVM), "no VM and no JNIEnv");
	onecxi_free_text(&r.text);
	return NULL;
}

// ok reports whether the last JNI call left no exception (describing it
// if it did): CheckJNI wants every call that may throw checked.
static int ok(JNIEnv *env) {
	if ((*env)->ExceptionCheck(env)) {
		(*env)->ExceptionDescribe(env);
		return 0;
	}
	return 1;
}

// load makes the URLClassLoader over dir and a TestContext from it.
static jobject load(JNIEnv *env, const char *dir) {
	jclass fileClass = (*env)->FindClass(env, "java/io/File");
	if (!ok(env)) return NULL;
	jobject file = (*env)->NewObject(env, fileClass, (*env)->GetMethodID(env, fileClass, "<init>", "(Ljava/lang/String;)V"),
	                                 (*env)->NewStringUTF(env, dir));
	if (!ok(env)) return NULL;
	jobject uri = (*env)->CallObjectMethod(env, file, (*env)->GetMethodID(env, fileClass, "toURI", "()Ljava/net/URI;"));
	if (!ok(env)) return NULL;
	jclass uriClass = (*env)->FindClass(env, "java/net/URI");
	if (!ok(env)) return NULL;
	jobject url = (*env)->CallObjectMethod(env, uri, (*env)->GetMethodID(env, uriClass, "toURL", "()Ljava/net/URL;"));
	if (!ok(env)) return NULL;
	jclass urlClass = (*env)->FindClass(env, "java/net/URL");
	if (!ok(env)) return NULL;
	jobjectArray urls = (*env)->NewObjectArray(env, 1, urlClass, url);
	if (!ok(env)) return NULL;
	jclass loaderClass = (*env)->FindClass(env, "java/net/URLClassLoader");
	if (!ok(env)) return NULL;
	jobject loader = (*env)->NewObject(env, loaderClass, (*env)->GetMethodID(env, loaderClass, "<init>", "([Ljava/net/URL;)V"), urls);
	if (!ok(env)) return NULL;
	jmethodID loadClass = (*env)->GetMethodID(env, loaderClass, "loadClass", "(Ljava/lang/String;)Ljava/lang/Class;");
	if (!ok(env)) return NULL;
	jstring name = (*env)->NewStringUTF(env, "com.onecxi.phone.TestContext");
	if (!ok(env)) return NULL;
	jclass tc = (jclass)(*env)->CallObjectMethod(env, loader, loadClass, name);
	if (!ok(env) || tc == NULL) return NULL;
	jobject c = (*env)->NewObject(env, tc, (*env)->GetMethodID(env, tc, "<init>", "()V"));
	if (!ok(env) || c == NULL) return NULL;
	return (*env)->NewGlobalRef(env, c);
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s CLASSES_DIR\n", argv[0]);
		return 2;
	}
	JavaVMOption opts[] = {{.optionString = "-Xcheck:jni"}, {.optionString = "-Xrs"}};
	JavaVMInitArgs args = {.version = JNI_VERSION_1_6, .nOptions = 2, .options = opts, .ignoreUnrecognized = JNI_FALSE};
	JNIEnv *env;
	if (JNI_CreateJavaVM(&vm, (void **)&env, &args) != JNI_OK) {
		fprintf(stderr, "cannot create the Java VM\n");
		return 2;
	}
	ctx = load(env, argv[1]);
	if (ctx == NULL) {
		fprintf(stderr, "cannot load the test classes from %s\n", argv[1]);
		return 2;
	}
	jclass hidden = (*env)->FindClass(env, "com/onecxi/phone/OneCxiBridge");
	CHECK(hidden == NULL, "FindClass must not see the bridge class (the check would prove less)");
	(*env)->ExceptionClear(env);

	onecxi_text t;
	onecxi_copy_string(env, NULL, &t);
	CHECK(t.chars == NULL && t.len == 0 && t.full == 0, "copying a null jstring");

	suite(env, "the VM's thread");
	pthread_t th;
	if (pthread_create(&th, NULL, on_new_thread, NULL) != 0 || pthread_join(th, NULL) != 0) {
		fprintf(stderr, "cannot run the second thread\n");
		return 2;
	}
	printf("jnihost: %d checks, %d failed\n", checks, failures);
	return failures == 0 ? 0 : 1;
}
