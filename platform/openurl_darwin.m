//go:build !ios && cgo

// The Get URL Apple Event handler: how macOS hands the app a clicked
// tel:, callto: or sip: link (the bundle's CFBundleURLTypes registers the
// schemes). Compiled by cgo with openurl_darwin.go; no ARC.

#import <Foundation/Foundation.h>
#import <AppKit/AppKit.h>

#include "_cgo_export.h"

// kInternetEventClass and kAEGetURL are both 'GURL' and keyDirectObject is
// '----'; spelled out so this file needs no Carbon header.
static const AEEventClass getURLEventClass = 'GURL';
static const AEEventID getURLEventID = 'GURL';
static const AEKeyword directObjectKeyword = '----';

@interface OnecxiURLHandler : NSObject
- (void)install:(id)unused;
- (void)applicationWillFinishLaunching:(NSNotification *)note;
- (void)handleGetURL:(NSAppleEventDescriptor *)event withReplyEvent:(NSAppleEventDescriptor *)reply;
@end

@implementation OnecxiURLHandler

// install makes this object the Get URL handler, replacing any other.
- (void)install:(id)unused {
    [[NSAppleEventManager sharedAppleEventManager] setEventHandler:self
                                                       andSelector:@selector(handleGetURL:withReplyEvent:)
                                                     forEventClass:getURLEventClass
                                                        andEventID:getURLEventID];
}

// NSApplication installs its own handlers before it posts this
// notification and dispatches the launching event (a clicked link) after
// it: installing again here wins over AppKit's, as Apple's Cocoa Scripting
// Guide advises for applicationWillFinishLaunching:.
- (void)applicationWillFinishLaunching:(NSNotification *)note {
    [self install:nil];
}

- (void)handleGetURL:(NSAppleEventDescriptor *)event withReplyEvent:(NSAppleEventDescriptor *)reply {
    NSString *link = [[event paramDescriptorForKeyword:directObjectKeyword] stringValue];
    NSData *utf8 = [link dataUsingEncoding:NSUTF8StringEncoding];
    if (utf8 == nil) {
        return; // no direct object, or not text
    }
    // Go copies the bytes and queues the link: the main thread never waits
    // for the app.
    onecxiOpenURL((char *)[utf8 bytes], (size_t)[utf8 length]);
}

@end

// The Apple Event Manager and the notification center do not retain their
// targets: the handler lives as long as the process.
static OnecxiURLHandler *handler;

void onecxiListenOpenURL(void) {
    @autoreleasepool {
        if (handler != nil) {
            return;
        }
        handler = [[OnecxiURLHandler alloc] init];
        [[NSNotificationCenter defaultCenter] addObserver:handler
                                                 selector:@selector(applicationWillFinishLaunching:)
                                                     name:NSApplicationWillFinishLaunchingNotification
                                                   object:nil];
        // Install now as well, for an NSApplication that has finished
        // launching already (no notification is coming). Apple Events are
        // dispatched on the main thread: install there.
        if ([NSThread isMainThread]) {
            [handler install:nil];
        } else {
            [handler performSelectorOnMainThread:@selector(install:) withObject:nil waitUntilDone:NO];
        }
    }
}
