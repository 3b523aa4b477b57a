// Compile-only stand-in for the iOS SDK's <stdlib.h>: the declarations
// platform/ios_glue.m and cgo's _cgo_export.h use (see ../apple.h); only the clang check uses it, the vet uses the arm64 sysroot.
#pragma once
#include <stddef.h>
void *malloc(size_t size);
void free(void *ptr);
