// Compile-only stand-in for <PushKit/PushKit.h>: see ../../apple.h.
#import "../../apple.h"
