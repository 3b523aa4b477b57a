// TargetConditionals.h: compile-only stand-in for Apple's header, for
// scripts/ios-check.sh's go vet of GOOS=ios with cgo (runtime/cgo includes
// it). Not Apple's header: it says only what an iPhone build would.
#pragma once
#define TARGET_OS_IPHONE 1
#define TARGET_OS_IOS 1
#define TARGET_OS_OSX 0
