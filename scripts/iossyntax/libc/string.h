// Compile-only stand-in for the iOS SDK's <string.h>: the declarations
// platform/ios_glue.m uses (see ../apple.h); only the clang check uses it, the vet uses the arm64 sysroot.
#pragma once
#include <stddef.h>
void *memset(void *b, int c, size_t len);
char *strdup(const char *s1);
size_t strlen(const char *s);
