// Compile-only stand-in for the CoreFoundation declarations Go's runtime/cgo
// uses on iOS (gcc_darwin_arm64.c), written from Apple's documentation for
// scripts/ios-check.sh's go vet. Not Apple's header; never linked.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef const struct __CFString *CFStringRef;
typedef const struct __CFURL *CFURLRef;
typedef struct __CFBundle *CFBundleRef;
typedef const void *CFTypeRef;
typedef long CFIndex;
typedef unsigned char Boolean;
typedef uint32_t CFStringEncoding;
enum { kCFStringEncodingUTF8 = 0x08000100 };
CFStringRef __CFStringMakeConstantString(const char *cStr);
#define CFSTR(s) __CFStringMakeConstantString("" s "")
CFBundleRef CFBundleGetMainBundle(void);
CFURLRef CFBundleCopyResourceURL(CFBundleRef bundle, CFStringRef resourceName, CFStringRef resourceType, CFStringRef subDirName);
CFTypeRef CFBundleGetValueForInfoDictionaryKey(CFBundleRef bundle, CFStringRef key);
CFStringRef CFURLGetString(CFURLRef anURL);
Boolean CFStringGetCString(CFStringRef theString, char *buffer, CFIndex bufferSize, CFStringEncoding encoding);
void CFRelease(CFTypeRef cf);
