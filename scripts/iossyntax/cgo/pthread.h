// Compile-only: the Darwin pthread extensions Go's runtime/cgo uses on iOS
// (gcc_stack_darwin.c), declared as Apple documents them, for
// scripts/ios-check.sh's go vet on a Linux arm64 sysroot, after the
// sysroot's own pthread.h. Never linked.
#pragma once
#include_next <pthread.h>
#include <stddef.h>
void *pthread_get_stackaddr_np(pthread_t thread);
size_t pthread_get_stacksize_np(pthread_t thread);
