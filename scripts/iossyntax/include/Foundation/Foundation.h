// Compile-only stand-in for <Foundation/Foundation.h>: see ../../apple.h.
#import "../../apple.h"
