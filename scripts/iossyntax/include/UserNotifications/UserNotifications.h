// Compile-only stand-in for <UserNotifications/UserNotifications.h>: see ../../apple.h.
#import "../../apple.h"
