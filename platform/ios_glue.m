//go:build ios && cgo

// The iOS glue: CallKit (CXProvider, CXCallController), PushKit
// (PKPushRegistry), AVAudioSession and UserNotifications, driven on the main
// queue. It is deliberately thin: every decision (what a push means, which
// SDK call a CallKit action is, what to do with a call nobody wants) is
// Go's, in platform/iosphone.go, which is tested on every host. Compiled by
// cgo with ios_objc.go; manual reference counting (cgo passes no -fobjc-arc),
// and the objects made here live as long as the process.

#import <Foundation/Foundation.h>
#import <AVFoundation/AVFoundation.h>
#import <CallKit/CallKit.h>
#import <PushKit/PushKit.h>
#import <UserNotifications/UserNotifications.h>

#include <stdlib.h>
#include <string.h>

#include "_cgo_export.h"

// text is s as an NSString: "" for NULL or bytes that are not UTF-8.
static NSString *text(const char *s) {
    NSString *t = s == NULL ? nil : [NSString stringWithUTF8String:s];
    return t == nil ? @"" : t;
}

// callUUID parses a UUID Go made; a random one should Go's ever not parse,
// so that a report still happens.
static NSUUID *callUUID(const char *s) {
    NSUUID *u = [[[NSUUID alloc] initWithUUIDString:text(s)] autorelease];
    return u == nil ? [NSUUID UUID] : u;
}

// errorText is what Go is told of a failure: never NULL.
static const char *errorText(NSError *err) {
    const char *s = [[err localizedDescription] UTF8String];
    return s == NULL ? "failed" : s;
}

// callUpdate is what CallKit shows for a call: the number as a generic
// handle (ours are phone numbers, DIDs and app numbers alike) and the name.
static CXCallUpdate *callUpdate(NSString *handle, NSString *name) {
    CXCallUpdate *u = [[[CXCallUpdate alloc] init] autorelease];
    u.remoteHandle = [[[CXHandle alloc] initWithType:CXHandleTypeGeneric value:handle] autorelease];
    if ([name length] > 0) {
        u.localizedCallerName = name;
    }
    u.hasVideo = NO;
    u.supportsHolding = YES;
    u.supportsDTMF = YES;
    u.supportsGrouping = NO;
    u.supportsUngrouping = NO;
    return u;
}

// configureAudioSession sets the category CallKit activates: a two-way
// voice call. CallKit, not the app, activates the session (the app starts
// audio in provider:didActivateAudioSession:), so only the category and
// mode are set here, when CallKit is about to start or answer a call.
static void configureAudioSession(void) {
    NSError *err = nil;
    AVAudioSession *session = [AVAudioSession sharedInstance];
    if (![session setCategory:AVAudioSessionCategoryPlayAndRecord
                         mode:AVAudioSessionModeVoiceChat
                      options:AVAudioSessionCategoryOptionAllowBluetooth
                        error:&err]) {
        NSLog(@"onecxi: setting the audio session category: %@", err);
    }
}

@interface OnecxiGlue : NSObject <CXProviderDelegate, PKPushRegistryDelegate>
@property(nonatomic, retain) CXProvider *provider;
@property(nonatomic, retain) CXCallController *controller;
@property(nonatomic, retain) PKPushRegistry *registry;
- (void)setUp;
@end

// glue is made once, on the main queue, and used only there.
static OnecxiGlue *glue;

@implementation OnecxiGlue

- (void)setUp {
    // initWithLocalizedName: rather than iOS 14's init: fyne's Xcode
    // project targets iOS 13. (Deprecated from 14, where the app's name is
    // shown whatever this says.)
    CXProviderConfiguration *config =
        [[[CXProviderConfiguration alloc] initWithLocalizedName:@"OneCxi Phone"] autorelease];
    config.supportsVideo = NO;
    config.maximumCallGroups = 1;
    config.maximumCallsPerCallGroup = 1;
    config.supportedHandleTypes = [NSSet setWithObject:[NSNumber numberWithInteger:CXHandleTypeGeneric]];
    config.includesCallsInRecents = YES;
    self.provider = [[[CXProvider alloc] initWithConfiguration:config] autorelease];
    [self.provider setDelegate:self queue:dispatch_get_main_queue()];
    self.controller = [[[CXCallController alloc] init] autorelease];
    // The registry is made at start-up and never released: a VoIP push that
    // launched the app is delivered to it once it exists.
    self.registry = [[[PKPushRegistry alloc] initWithQueue:dispatch_get_main_queue()] autorelease];
    self.registry.delegate = self;
    self.registry.desiredPushTypes = [NSSet setWithObject:PKPushTypeVoIP];
}

// PushKit.

- (void)pushRegistry:(PKPushRegistry *)registry
    didUpdatePushCredentials:(PKPushCredentials *)credentials
                     forType:(PKPushType)type {
    NSData *token = credentials.token;
    onecxiIOSVoIPToken((char *)[token bytes], (size_t)[token length]);
}

- (void)pushRegistry:(PKPushRegistry *)registry didInvalidatePushTokenForType:(PKPushType)type {
    onecxiIOSVoIPToken(NULL, 0);
}

// Every VoIP push is reported to CallKit here, before this returns and
// before any network work: iOS 13+ kills an app that does not. Go reads the
// payload and says what to report (and whether to end it at once); the Go
// side hears of the push, and the SDK with it, only from the report's
// completion.
- (void)pushRegistry:(PKPushRegistry *)registry
    didReceiveIncomingPushWithPayload:(PKPushPayload *)payload
                              forType:(PKPushType)type
                withCompletionHandler:(void (^)(void))completion {
    NSData *json = nil;
    NSDictionary *dict = payload.dictionaryPayload;
    if (dict != nil && [NSJSONSerialization isValidJSONObject:dict]) {
        json = [NSJSONSerialization dataWithJSONObject:dict options:0 error:NULL];
    }
    onecxi_push_report r;
    memset(&r, 0, sizeof r);
    onecxiIOSIncomingPush((char *)[json bytes], (size_t)[json length], &r);
    NSUUID *uuid = callUUID(r.uuid);
    CXCallUpdate *update = callUpdate(text(r.handle), text(r.name));
    free(r.handle);
    free(r.name);
    int endReason = r.end_reason;
    CXProvider *provider = self.provider;
    [provider reportNewIncomingCallWithUUID:uuid
                                     update:update
                                 completion:^(NSError *error) {
                                   onecxiIOSIncomingReported((char *)[[uuid UUIDString] UTF8String],
                                                             error == nil ? NULL : (char *)errorText(error));
                                   if (endReason != 0) {
                                       [provider reportCallWithUUID:uuid
                                                        endedAtDate:nil
                                                             reason:(CXCallEndedReason)endReason];
                                   }
                                   completion();
                                 }];
}

// CallKit's actions: Go maps each to the SDK (answer, decline or hang up,
// mute, hold, DTMF) and says whether it is for a call it knows.

static BOOL goAction(int kind, CXCallAction *action, int on, const char *digits) {
    return onecxiIOSProviderAction(kind, (char *)[[action.callUUID UUIDString] UTF8String], on, (char *)digits) != 0;
}

- (void)providerDidReset:(CXProvider *)provider {
    onecxiIOSProviderAction(ONECXI_ACTION_RESET, (char *)"", 0, (char *)"");
}

- (void)provider:(CXProvider *)provider performStartCallAction:(CXStartCallAction *)action {
    configureAudioSession();
    if (!goAction(ONECXI_ACTION_START, action, 0, "")) {
        [action fail];
        return;
    }
    [provider reportOutgoingCallWithUUID:action.callUUID startedConnectingAtDate:nil];
    [action fulfill];
}

- (void)provider:(CXProvider *)provider performAnswerCallAction:(CXAnswerCallAction *)action {
    configureAudioSession();
    if (!goAction(ONECXI_ACTION_ANSWER, action, 0, "")) {
        [action fail];
        return;
    }
    [action fulfill];
}

- (void)provider:(CXProvider *)provider performEndCallAction:(CXEndCallAction *)action {
    goAction(ONECXI_ACTION_END, action, 0, "");
    [action fulfill]; // a call Go does not know is over all the same
}

- (void)provider:(CXProvider *)provider performSetMutedCallAction:(CXSetMutedCallAction *)action {
    if (goAction(ONECXI_ACTION_MUTE, action, action.muted ? 1 : 0, "")) {
        [action fulfill];
    } else {
        [action fail];
    }
}

- (void)provider:(CXProvider *)provider performSetHeldCallAction:(CXSetHeldCallAction *)action {
    if (goAction(ONECXI_ACTION_HOLD, action, action.onHold ? 1 : 0, "")) {
        [action fulfill];
    } else {
        [action fail];
    }
}

- (void)provider:(CXProvider *)provider performPlayDTMFCallAction:(CXPlayDTMFCallAction *)action {
    const char *digits = [action.digits UTF8String];
    if (goAction(ONECXI_ACTION_DTMF, action, 0, digits == NULL ? "" : digits)) {
        [action fulfill];
    } else {
        [action fail];
    }
}

// The call's audio may start only now: CallKit has activated the session
// (Go's StartForegroundService waits for this).
- (void)provider:(CXProvider *)provider didActivateAudioSession:(AVAudioSession *)audioSession {
    onecxiIOSAudioSession(1);
}

- (void)provider:(CXProvider *)provider didDeactivateAudioSession:(AVAudioSession *)audioSession {
    onecxiIOSAudioSession(0);
}

@end

// What Go calls: each copies its arguments and runs on the main queue.

void onecxi_ios_start(void) {
    dispatch_async(dispatch_get_main_queue(), ^{
      if (glue == nil) {
          glue = [[OnecxiGlue alloc] init];
          [glue setUp];
      }
    });
}

int onecxi_ios_record_permission(void) {
    switch ([[AVAudioSession sharedInstance] recordPermission]) {
    case AVAudioSessionRecordPermissionGranted:
        return ONECXI_MIC_GRANTED;
    case AVAudioSessionRecordPermissionDenied:
        return ONECXI_MIC_DENIED;
    default:
        return ONECXI_MIC_UNDETERMINED;
    }
}

void onecxi_ios_request_record_permission(int32_t code) {
    [[AVAudioSession sharedInstance] requestRecordPermission:^(BOOL granted) {
      onecxiIOSPermission(code, granted ? 1 : 0);
    }];
}

// notificationsAllowed: authorized, and the later grades of it
// (provisional, iOS 12; ephemeral, iOS 14), which Apple numbers after it:
// compared as numbers so that the file names nothing newer than iOS 13,
// fyne's deployment target. The call screen is CallKit's; notifications
// only tell of missed calls.
static BOOL notificationsAllowed(UNNotificationSettings *settings) {
    return settings.authorizationStatus >= UNAuthorizationStatusAuthorized;
}

void onecxi_ios_notification_permission(int32_t code) {
    [[UNUserNotificationCenter currentNotificationCenter]
        getNotificationSettingsWithCompletionHandler:^(UNNotificationSettings *settings) {
          onecxiIOSPermission(code, notificationsAllowed(settings) ? 1 : 0);
        }];
}

void onecxi_ios_request_notification_permission(int32_t code) {
    UNAuthorizationOptions options = UNAuthorizationOptionAlert | UNAuthorizationOptionSound | UNAuthorizationOptionBadge;
    [[UNUserNotificationCenter currentNotificationCenter]
        requestAuthorizationWithOptions:options
                      completionHandler:^(BOOL granted, NSError *error) {
                        if (error != nil) {
                            NSLog(@"onecxi: asking for notification permission: %@", error);
                        }
                        onecxiIOSPermission(code, granted ? 1 : 0);
                      }];
}

// The functions below run on Go's threads, which have no autorelease pool
// of their own and rarely exit: each drains its own (the blocks it
// dispatches hold what they use).
void onecxi_ios_report_incoming(const char *uuidText, const char *handle, const char *name) {
    @autoreleasepool {
        NSUUID *uuid = callUUID(uuidText);
        CXCallUpdate *update = callUpdate(text(handle), text(name));
        dispatch_async(dispatch_get_main_queue(), ^{
          [glue.provider reportNewIncomingCallWithUUID:uuid
                                                update:update
                                            completion:^(NSError *error) {
                                              onecxiIOSIncomingReported((char *)[[uuid UUIDString] UTF8String],
                                                                        error == nil ? NULL : (char *)errorText(error));
                                            }];
        });
    }
}

void onecxi_ios_update_call(const char *uuidText, const char *handle, const char *name) {
    @autoreleasepool {
        NSUUID *uuid = callUUID(uuidText);
        CXCallUpdate *update = callUpdate(text(handle), text(name));
        dispatch_async(dispatch_get_main_queue(), ^{
          [glue.provider reportCallWithUUID:uuid updated:update];
        });
    }
}

void onecxi_ios_end_call(const char *uuidText, int reason) {
    @autoreleasepool {
        NSUUID *uuid = callUUID(uuidText);
        dispatch_async(dispatch_get_main_queue(), ^{
          [glue.provider reportCallWithUUID:uuid endedAtDate:nil reason:(CXCallEndedReason)reason];
        });
    }
}

// onecxi_ios_start_outgoing asks CallKit to start an outgoing call, so that
// the system knows of it (Recents, the green bar, a cellular call ending
// it); CallKit then performs the start action (performStartCallAction:).
void onecxi_ios_start_outgoing(const char *uuidText, const char *handleText) {
    @autoreleasepool {
        NSUUID *uuid = callUUID(uuidText);
        NSString *value = text(handleText);
        dispatch_async(dispatch_get_main_queue(), ^{
          CXHandle *handle = [[[CXHandle alloc] initWithType:CXHandleTypeGeneric value:value] autorelease];
          CXStartCallAction *start = [[[CXStartCallAction alloc] initWithCallUUID:uuid handle:handle] autorelease];
          CXTransaction *tx = [[[CXTransaction alloc] initWithAction:start] autorelease];
          [glue.controller requestTransaction:tx
                                   completion:^(NSError *error) {
                                     if (error != nil) {
                                         onecxiIOSOutgoingRefused((char *)[[uuid UUIDString] UTF8String],
                                                                  (char *)errorText(error));
                                     }
                                   }];
        });
    }
}

void onecxi_ios_outgoing_connected(const char *uuidText) {
    @autoreleasepool {
        NSUUID *uuid = callUUID(uuidText);
        dispatch_async(dispatch_get_main_queue(), ^{
          [glue.provider reportOutgoingCallWithUUID:uuid connectedAtDate:nil];
        });
    }
}

char *onecxi_ios_set_speaker(int on) {
    @autoreleasepool {
        NSError *err = nil;
        AVAudioSessionPortOverride port = on ? AVAudioSessionPortOverrideSpeaker : AVAudioSessionPortOverrideNone;
        if ([[AVAudioSession sharedInstance] overrideOutputAudioPort:port error:&err]) {
            return NULL;
        }
        NSString *msg = [NSString stringWithFormat:@"failed: %@", [err localizedDescription]];
        const char *s = [msg UTF8String];
        return strdup(s == NULL ? "failed: overriding the audio output" : s);
    }
}
