// ios_glue.h: the C boundary between Go (ios_objc.go) and the iOS
// Objective-C glue (ios_glue.m). Plain C, so cgo reads it without the iOS
// SDK; the Objective-C side gets the Go functions it calls from cgo's
// _cgo_export.h, which includes this file.
#ifndef ONECXI_IOS_GLUE_H
#define ONECXI_IOS_GLUE_H

#include <stddef.h>
#include <stdint.h>

// The CXProvider delegate callbacks passed to onecxiIOSProviderAction, as
// providerKind numbers them in platform/applebridge.go.
enum {
	ONECXI_ACTION_ANSWER = 1,
	ONECXI_ACTION_END = 2,
	ONECXI_ACTION_MUTE = 3,
	ONECXI_ACTION_HOLD = 4,
	ONECXI_ACTION_DTMF = 5,
	ONECXI_ACTION_START = 6,
	ONECXI_ACTION_RESET = 7,
};

// AVAudioSessionRecordPermission, as micPermission numbers it.
enum {
	ONECXI_MIC_UNDETERMINED = 0,
	ONECXI_MIC_DENIED = 1,
	ONECXI_MIC_GRANTED = 2,
};

// ONECXI_UUID_LEN is the length of a UUID's text form, without the NUL.
#define ONECXI_UUID_LEN 36

// onecxi_push_report is Go's answer to a VoIP push: the call to report to
// CallKit, and (end_reason, a CXCallEndedReason, 0 for none) whether to end
// it as soon as CallKit has it. handle and name are malloc'd by Go; the
// Objective-C side frees them.
typedef struct {
	char uuid[ONECXI_UUID_LEN + 1];
	char *handle;
	char *name;
	int end_reason;
} onecxi_push_report;

// What Go calls. Each returns at once; the work runs on the main queue.
void onecxi_ios_start(void);
int onecxi_ios_record_permission(void);
void onecxi_ios_request_record_permission(int32_t code);
void onecxi_ios_notification_permission(int32_t code);
void onecxi_ios_request_notification_permission(int32_t code);
void onecxi_ios_report_incoming(const char *uuid, const char *handle, const char *name);
void onecxi_ios_update_call(const char *uuid, const char *handle, const char *name);
void onecxi_ios_end_call(const char *uuid, int reason);
void onecxi_ios_start_outgoing(const char *uuid, const char *handle);
void onecxi_ios_outgoing_connected(const char *uuid);
// onecxi_ios_set_speaker runs on the caller's thread (AVAudioSession is
// thread-safe) and returns NULL, or a malloc'd "<kind>: <message>" that the
// caller frees.
char *onecxi_ios_set_speaker(int on);

#endif
