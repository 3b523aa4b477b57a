/* A stand-in for the NDK's <android/log.h>, for make android-gocheck only:
 * Go's runtime/cgo (gcc_android.c) includes it, and this machine has no
 * NDK. It declares just what runtime/cgo uses, as the NDK declares it. It
 * is never linked: the check compiles, it does not link. */
#ifndef ONECXI_STUB_ANDROID_LOG_H
#define ONECXI_STUB_ANDROID_LOG_H
#include <stdarg.h>
#define ANDROID_LOG_FATAL 7
int __android_log_vprint(int prio, const char *tag, const char *fmt, va_list ap);
#endif
