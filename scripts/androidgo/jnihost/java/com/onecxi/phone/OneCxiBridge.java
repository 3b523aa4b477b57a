// A test double of the app's OneCxiBridge with the contract's static
// methods (same names and JNI signatures), for make android-gocheck: it
// echoes what it was given, throws, returns null and oversized strings, so
// the C bridge (platform/bridge_android.c) can be run against a real JVM.
package com.onecxi.phone;

import android.content.Context;

public final class OneCxiBridge {
    private OneCxiBridge() {}

    static int lastRequestCode = -1;
    static String lastCall = "";

    private static void need(Context ctx) {
        if (!(ctx instanceof TestContext)) {
            throw new IllegalArgumentException("not the test Context");
        }
    }

    public static boolean checkPermissions(Context ctx) {
        need(ctx);
        return true;
    }

    public static void requestPermissions(Context ctx, int requestCode) {
        need(ctx);
        lastRequestCode = requestCode;
    }

    public static void requestFcmToken(Context ctx, int requestCode) {
        need(ctx);
        throw new IllegalStateException("Firebase is not here: " + requestCode);
    }

    public static String startCallService(Context ctx, String callId, String remote) {
        need(ctx);
        return "echo:" + callId + "|" + remote;
    }

    public static String stopCallService(Context ctx) {
        need(ctx);
        return null;
    }

    public static String showIncomingCall(Context ctx, String callId, String callerName, String callerNumber, String callType) {
        need(ctx);
        return callId + "|" + callerName + "|" + callerNumber + "|" + callType;
    }

    public static void dismissIncomingCall(Context ctx, String callId) {
        need(ctx);
        lastCall = callId;
    }

    public static String setAudioRoute(Context ctx, String route) {
        need(ctx);
        return "invalid: route " + route;
    }

    public static String takePendingIncomingCall(Context ctx) {
        need(ctx);
        StringBuilder b = new StringBuilder(70000);
        for (int i = 0; i < 70000; i++) {
            b.append('x');
        }
        return b.toString();
    }

    public static String takePendingCallAction(Context ctx) {
        need(ctx);
        return "";
    }

    public static String storeRegisteredNumber(Context ctx, String number) {
        need(ctx);
        // An exception whose toString() itself throws.
        throw new RuntimeException() {
            @Override
            public String toString() {
                throw new IllegalStateException("toString fails too");
            }
        };
    }

    public static String registeredNumber(Context ctx) {
        need(ctx);
        return lastRequestCode + "/" + lastCall;
    }
}
