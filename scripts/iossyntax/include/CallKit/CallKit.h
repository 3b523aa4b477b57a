// Compile-only stand-in for <CallKit/CallKit.h>: see ../../apple.h.
#import "../../apple.h"
