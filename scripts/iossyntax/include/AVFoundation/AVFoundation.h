// Compile-only stand-in for <AVFoundation/AVFoundation.h>: see ../../apple.h.
#import "../../apple.h"
