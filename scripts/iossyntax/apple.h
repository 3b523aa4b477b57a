// apple.h: the iOS SDK declarations platform/ios_glue.m uses, and nothing
// else, for scripts/ios-check.sh (clang -fsyntax-only
// --target=arm64-apple-ios15, and cgo's compile of the file for go vet).
// include/<Framework>/<Framework>.h import this, so the .m file's imports
// are the ones a Mac build uses.
//
// COMPILE-ONLY. Written from Apple's documentation of the same names
// (Foundation, AVFAudio, CallKit, PushKit, UserNotifications; iOS 15
// SDK); these are not Apple's headers. The check proves the Objective-C's
// syntax, its use of these names as declared here, and its calls into Go
// (cgo's _cgo_export.h); it cannot prove that these declarations match the
// SDK, nor does it link or run anything. A Mac build (docs/ios.md) does.
// Enum values are Apple's, because Go passes some of them through
// (CXCallEndedReason) and the switch statements depend on them.
#pragma once

#include <stddef.h>
#include <stdint.h>

// Objective-C basics (objc/objc.h, NSObjCRuntime.h).
typedef signed char BOOL;
#define YES ((BOOL)1)
#define NO ((BOOL)0)
typedef long NSInteger;
typedef unsigned long NSUInteger;
typedef double NSTimeInterval;
#define nil ((void *)0) // __DARWIN_NULL, as Apple defines it for C and Objective-C

@protocol NSObject
- (instancetype)retain;
- (oneway void)release;
- (instancetype)autorelease;
@end

__attribute__((objc_root_class))
@interface NSObject <NSObject> {
    Class isa;
}
+ (instancetype)alloc;
- (instancetype)init;
- (instancetype)retain;
- (oneway void)release;
- (instancetype)autorelease;
- (void)dealloc;
@end

// Foundation.
@interface NSString : NSObject
+ (instancetype)stringWithUTF8String:(const char *)nullTerminatedCString;
+ (instancetype)stringWithFormat:(NSString *)format, ... __attribute__((format(__NSString__, 1, 2)));
- (const char *)UTF8String;
- (NSUInteger)length;
@end

@interface NSData : NSObject
- (const void *)bytes;
- (NSUInteger)length;
@end

@interface NSDictionary : NSObject
@end

@interface NSSet<ObjectType> : NSObject
+ (instancetype)setWithObject:(ObjectType)object;
@end

@interface NSNumber : NSObject
+ (NSNumber *)numberWithInteger:(NSInteger)value;
@end

@interface NSDate : NSObject
@end

@interface NSUUID : NSObject
+ (instancetype)UUID;
- (instancetype)initWithUUIDString:(NSString *)string;
@property(readonly, copy) NSString *UUIDString;
@end

@interface NSError : NSObject
@property(readonly, copy) NSString *localizedDescription;
@end

typedef NSUInteger NSJSONWritingOptions;
@interface NSJSONSerialization : NSObject
+ (BOOL)isValidJSONObject:(id)obj;
+ (NSData *)dataWithJSONObject:(id)obj options:(NSJSONWritingOptions)opt error:(NSError **)error;
@end

void NSLog(NSString *format, ...) __attribute__((format(__NSString__, 1, 2)));

// libdispatch.
// In Objective-C, Apple's dispatch objects are Objective-C objects
// (OS_OBJECT_USE_OBJC).
@protocol OS_dispatch_queue <NSObject>
@end
typedef NSObject<OS_dispatch_queue> *dispatch_queue_t;
typedef void (^dispatch_block_t)(void);
dispatch_queue_t dispatch_get_main_queue(void); // a macro in Apple's header
void dispatch_async(dispatch_queue_t queue, dispatch_block_t block);

// AVFAudio: AVAudioSession.
typedef NSString *AVAudioSessionCategory;
typedef NSString *AVAudioSessionMode;
extern AVAudioSessionCategory const AVAudioSessionCategoryPlayAndRecord;
extern AVAudioSessionMode const AVAudioSessionModeVoiceChat;

typedef NSUInteger AVAudioSessionCategoryOptions;
enum {
    AVAudioSessionCategoryOptionMixWithOthers = 0x1,
    AVAudioSessionCategoryOptionDuckOthers = 0x2,
    AVAudioSessionCategoryOptionAllowBluetooth = 0x4,
    AVAudioSessionCategoryOptionDefaultToSpeaker = 0x8,
};

typedef NSUInteger AVAudioSessionRecordPermission;
enum {
    AVAudioSessionRecordPermissionUndetermined = 'undt',
    AVAudioSessionRecordPermissionDenied = 'deny',
    AVAudioSessionRecordPermissionGranted = 'grnt',
};

typedef NSUInteger AVAudioSessionPortOverride;
enum {
    AVAudioSessionPortOverrideNone = 0,
    AVAudioSessionPortOverrideSpeaker = 'spkr',
};

@interface AVAudioSession : NSObject
+ (AVAudioSession *)sharedInstance;
- (BOOL)setCategory:(AVAudioSessionCategory)category
               mode:(AVAudioSessionMode)mode
            options:(AVAudioSessionCategoryOptions)options
              error:(NSError **)outError;
- (BOOL)overrideOutputAudioPort:(AVAudioSessionPortOverride)portOverride error:(NSError **)outError;
@property(readonly) AVAudioSessionRecordPermission recordPermission; // deprecated in iOS 17, still there
- (void)requestRecordPermission:(void (^)(BOOL granted))response;
@end

// CallKit.
typedef NSInteger CXHandleType;
enum {
    CXHandleTypeGeneric = 1,
    CXHandleTypePhoneNumber = 2,
    CXHandleTypeEmailAddress = 3,
};

typedef NSInteger CXCallEndedReason;
enum {
    CXCallEndedReasonFailed = 1,
    CXCallEndedReasonRemoteEnded = 2,
    CXCallEndedReasonUnanswered = 3,
    CXCallEndedReasonAnsweredElsewhere = 4,
    CXCallEndedReasonDeclinedElsewhere = 5,
};

@interface CXHandle : NSObject
- (instancetype)initWithType:(CXHandleType)type value:(NSString *)value;
@end

@interface CXCallUpdate : NSObject
@property(nonatomic, copy) CXHandle *remoteHandle;
@property(nonatomic, copy) NSString *localizedCallerName;
@property(nonatomic) BOOL supportsHolding;
@property(nonatomic) BOOL supportsGrouping;
@property(nonatomic) BOOL supportsUngrouping;
@property(nonatomic) BOOL supportsDTMF;
@property(nonatomic) BOOL hasVideo;
@end

@interface CXAction : NSObject
- (void)fulfill;
- (void)fail;
@end

@interface CXCallAction : CXAction
@property(nonatomic, copy, readonly) NSUUID *callUUID;
@end

@interface CXStartCallAction : CXCallAction
- (instancetype)initWithCallUUID:(NSUUID *)callUUID handle:(CXHandle *)handle;
@end

@interface CXAnswerCallAction : CXCallAction
@end

@interface CXEndCallAction : CXCallAction
@end

@interface CXSetMutedCallAction : CXCallAction
@property(nonatomic, getter=isMuted) BOOL muted;
@end

@interface CXSetHeldCallAction : CXCallAction
@property(nonatomic, getter=isOnHold) BOOL onHold;
@end

@interface CXPlayDTMFCallAction : CXCallAction
@property(nonatomic, copy) NSString *digits;
@end

@interface CXTransaction : NSObject
- (instancetype)initWithAction:(CXAction *)action;
@end

@interface CXProviderConfiguration : NSObject
- (instancetype)initWithLocalizedName:(NSString *)localizedName; // deprecated from iOS 14, still there
@property(nonatomic) BOOL supportsVideo;
@property(nonatomic) NSUInteger maximumCallGroups;
@property(nonatomic) NSUInteger maximumCallsPerCallGroup;
@property(nonatomic) BOOL includesCallsInRecents;
@property(nonatomic, copy) NSSet<NSNumber *> *supportedHandleTypes;
@end

@class CXProvider;

@protocol CXProviderDelegate <NSObject>
- (void)providerDidReset:(CXProvider *)provider;
@optional
- (void)provider:(CXProvider *)provider performStartCallAction:(CXStartCallAction *)action;
- (void)provider:(CXProvider *)provider performAnswerCallAction:(CXAnswerCallAction *)action;
- (void)provider:(CXProvider *)provider performEndCallAction:(CXEndCallAction *)action;
- (void)provider:(CXProvider *)provider performSetHeldCallAction:(CXSetHeldCallAction *)action;
- (void)provider:(CXProvider *)provider performSetMutedCallAction:(CXSetMutedCallAction *)action;
- (void)provider:(CXProvider *)provider performPlayDTMFCallAction:(CXPlayDTMFCallAction *)action;
- (void)provider:(CXProvider *)provider didActivateAudioSession:(AVAudioSession *)audioSession;
- (void)provider:(CXProvider *)provider didDeactivateAudioSession:(AVAudioSession *)audioSession;
@end

@interface CXProvider : NSObject
- (instancetype)initWithConfiguration:(CXProviderConfiguration *)configuration;
- (void)setDelegate:(id<CXProviderDelegate>)delegate queue:(dispatch_queue_t)queue;
- (void)reportNewIncomingCallWithUUID:(NSUUID *)UUID
                               update:(CXCallUpdate *)update
                           completion:(void (^)(NSError *error))completion;
- (void)reportCallWithUUID:(NSUUID *)UUID updated:(CXCallUpdate *)update;
- (void)reportCallWithUUID:(NSUUID *)UUID endedAtDate:(NSDate *)dateEnded reason:(CXCallEndedReason)endedReason;
- (void)reportOutgoingCallWithUUID:(NSUUID *)UUID startedConnectingAtDate:(NSDate *)dateStartedConnecting;
- (void)reportOutgoingCallWithUUID:(NSUUID *)UUID connectedAtDate:(NSDate *)dateConnected;
@end

@interface CXCallController : NSObject
- (instancetype)init;
- (void)requestTransaction:(CXTransaction *)transaction completion:(void (^)(NSError *error))completion;
@end

// PushKit.
typedef NSString *PKPushType;
extern PKPushType const PKPushTypeVoIP;

@interface PKPushCredentials : NSObject
@property(readonly, copy) NSData *token;
@end

@interface PKPushPayload : NSObject
@property(readonly, copy) NSDictionary *dictionaryPayload;
@end

@class PKPushRegistry;

@protocol PKPushRegistryDelegate <NSObject>
- (void)pushRegistry:(PKPushRegistry *)registry
    didUpdatePushCredentials:(PKPushCredentials *)pushCredentials
                     forType:(PKPushType)type;
@optional
- (void)pushRegistry:(PKPushRegistry *)registry
    didReceiveIncomingPushWithPayload:(PKPushPayload *)payload
                              forType:(PKPushType)type
                withCompletionHandler:(void (^)(void))completion;
- (void)pushRegistry:(PKPushRegistry *)registry didInvalidatePushTokenForType:(PKPushType)type;
@end

@interface PKPushRegistry : NSObject
- (instancetype)initWithQueue:(dispatch_queue_t)queue;
@property(nonatomic, assign) id<PKPushRegistryDelegate> delegate; // weak in Apple's header; assign is the same under MRC
@property(nonatomic, copy) NSSet<PKPushType> *desiredPushTypes;
@end

// UserNotifications.
typedef NSInteger UNAuthorizationStatus;
enum {
    UNAuthorizationStatusNotDetermined = 0,
    UNAuthorizationStatusDenied = 1,
    UNAuthorizationStatusAuthorized = 2,
    UNAuthorizationStatusProvisional = 3,
    UNAuthorizationStatusEphemeral = 4,
};

typedef NSUInteger UNAuthorizationOptions;
enum {
    UNAuthorizationOptionBadge = 1 << 0,
    UNAuthorizationOptionSound = 1 << 1,
    UNAuthorizationOptionAlert = 1 << 2,
};

@interface UNNotificationSettings : NSObject
@property(readonly) UNAuthorizationStatus authorizationStatus;
@end

@interface UNUserNotificationCenter : NSObject
+ (UNUserNotificationCenter *)currentNotificationCenter;
- (void)getNotificationSettingsWithCompletionHandler:(void (^)(UNNotificationSettings *settings))completionHandler;
- (void)requestAuthorizationWithOptions:(UNAuthorizationOptions)options
                      completionHandler:(void (^)(BOOL granted, NSError *error))completionHandler;
@end
