// appleevents.h: the macOS API that openurl_darwin.m uses and GNUstep's
// headers lack, for scripts/darwin-syntax-check.sh (clang -include).
//
// GNUstep 1.28 declares NSAppleEventManager and NSAppleEventDescriptor as
// empty classes and has no Apple Event Manager types. These declarations
// are written from Apple's documentation of the same names; they are not
// Apple's headers, so the check cannot prove they match the macOS SDK: a Mac
// build does that.
#import <Foundation/Foundation.h>

typedef uint32_t FourCharCode; // MacTypes.h: UInt32
typedef FourCharCode AEEventClass;
typedef FourCharCode AEEventID;
typedef FourCharCode AEKeyword;

@interface NSAppleEventDescriptor (MacOSAPI)
- (NSAppleEventDescriptor *)paramDescriptorForKeyword:(AEKeyword)keyword;
- (NSString *)stringValue;
@end

@interface NSAppleEventManager (MacOSAPI)
+ (NSAppleEventManager *)sharedAppleEventManager;
- (void)setEventHandler:(id)handler
            andSelector:(SEL)handleEventSelector
          forEventClass:(AEEventClass)eventClass
             andEventID:(AEEventID)eventID;
@end
