package com.onecxi.phone;

import android.Manifest;
import android.app.Activity;
import android.content.ComponentName;
import android.content.Context;
import android.content.Intent;
import android.content.pm.ActivityInfo;
import android.content.pm.PackageManager;
import android.os.Build;
import android.os.Bundle;
import android.os.Handler;
import android.os.Looper;
import android.util.Log;

/**
 * The JNI surface between the Go app (Fyne, callcore) and Android. The Go side
 * calls the static methods below with the app's Context (Fyne's
 * AndroidContext.Ctx, the GoNativeActivity); Java calls back through the
 * native methods, which the Go library exports as
 * Java_com_onecxi_phone_OneCxiBridge_&lt;name&gt;.
 *
 * <p>The contract (names, JNI signatures, error kinds) is written down in
 * docs/android-bridge.md; keep both in step.
 *
 * <p>Every method may be called from any thread: the ones that touch UI or
 * Android components that want the main thread hop to it. Methods that can
 * fail return "" on success, else "&lt;kind&gt;: &lt;message&gt;" with kind one of
 * permission, not_allowed, unsupported, invalid, failed.
 */
public final class OneCxiBridge {
    static final String TAG = "OneCxiBridge";

    /** Used when the manifest cannot be read; the name make android gives the Go library. */
    static final String DEFAULT_LIB_NAME = "onecxi";
    /** fyne's activity, which loads the Go library and runs Go's main.main. */
    static final String GO_ACTIVITY = "org.golang.app.GoNativeActivity";

    static final String KIND_PERMISSION = "permission";
    static final String KIND_NOT_ALLOWED = "not_allowed";
    static final String KIND_UNSUPPORTED = "unsupported";
    static final String KIND_INVALID = "invalid";
    static final String KIND_FAILED = "failed";

    /** Longest error text handed to Go ("kind: message"). */
    private static final int MAX_ERROR = 200;

    /** POST_NOTIFICATIONS is API 33; spelled out because API 23's Manifest lacks it. */
    static final String PERMISSION_POST_NOTIFICATIONS = "android.permission.POST_NOTIFICATIONS";

    private static final Object LOCK = new Object();
    /**
     * True once Go has called into this class in this process: Go's main.main
     * is running (only GoNativeActivity starts it), so native callbacks have a
     * live app to go to. A process started by FCM or a notification action has
     * no Go app; there Java stores what happened and shows the UI itself.
     */
    private static volatile boolean goAttached;
    /** Result of System.loadLibrary: null = not tried yet. */
    private static Boolean libraryLoaded;

    private static volatile Handler mainHandler;

    private OneCxiBridge() {
    }

    // ---- native methods (implemented by the Go library) ----

    static native void nativePermissionsResult(int requestCode, boolean granted);

    static native void nativeFcmToken(int requestCode, String token, String error);

    static native void nativeTokenRefreshed(String token);

    static native boolean nativeIncomingPush(String dataJson);

    static native boolean nativeCallAction(String callId, String action);

    // ---- methods Go calls ----

    /** RECORD_AUDIO granted, and POST_NOTIFICATIONS on API 33+. */
    public static boolean checkPermissions(Context ctx) {
        attach(ctx);
        return missingPermissions(ctx).length == 0;
    }

    /**
     * Asks for the missing permissions through a transparent activity; the
     * answer comes back as nativePermissionsResult(requestCode, granted).
     */
    public static void requestPermissions(final Context ctx, final int requestCode) {
        attach(ctx);
        if (missingPermissions(ctx).length == 0) {
            // Answered after this call returns, as the dialog's answer would be.
            runOnMainLater(new Runnable() {
                @Override
                public void run() {
                    deliverPermissionsResult(requestCode, true);
                }
            });
            return;
        }
        runOnMain(new Runnable() {
            @Override
            public void run() {
                try {
                    Intent i = new Intent(ctx, OneCxiPermissionActivity.class);
                    i.putExtra(OneCxiPermissionActivity.EXTRA_REQUEST_CODE, requestCode);
                    if (!(ctx instanceof Activity)) {
                        i.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK);
                    }
                    ctx.startActivity(i);
                } catch (RuntimeException e) {
                    // Background activity starts are refused on Android 10+; the
                    // Go side asks again when the user is in the app.
                    Log.w(TAG, "cannot show the permission request", e);
                    deliverPermissionsResult(requestCode, false);
                }
            }
        });
    }

    /** FirebaseMessaging.getInstance().getToken(); answer via nativeFcmToken. */
    public static void requestFcmToken(Context ctx, int requestCode) {
        attach(ctx);
        OneCxiFcm.requestToken(ctx.getApplicationContext(), requestCode);
    }

    /** The call's foreground service with its ongoing-call notification. */
    public static String startCallService(Context ctx, String callId, String remote) {
        attach(ctx);
        if (isBlank(callId)) {
            return error(KIND_INVALID, "empty call id");
        }
        return OneCxiCallService.start(ctx, callId, remote == null ? "" : remote);
    }

    public static String stopCallService(Context ctx) {
        attach(ctx);
        String err = OneCxiCallService.stop(ctx);
        // The call is over: give the audio system back its normal mode.
        OneCxiAudioRouter.reset(ctx);
        return err;
    }

    /**
     * The ringing notification (CATEGORY_CALL, full-screen intent to
     * OneCxiIncomingCallActivity, Accept/Decline).
     */
    public static String showIncomingCall(Context ctx, String callId, String callerName,
            String callerNumber, String callType) {
        attach(ctx);
        if (isBlank(callId)) {
            return error(KIND_INVALID, "empty call id");
        }
        if (isBlank(callerName) && isBlank(callerNumber)) {
            return error(KIND_INVALID, "no caller name or number");
        }
        return OneCxiNotifications.showIncoming(ctx, callId, callerName, callerNumber, callType);
    }

    public static void dismissIncomingCall(Context ctx, String callId) {
        attach(ctx);
        OneCxiNotifications.cancelIncoming(ctx, callId);
        OneCxiIncomingCallActivity.finishFor(callId);
    }

    /** route: "earpiece" | "speaker" | "bluetooth". */
    public static String setAudioRoute(Context ctx, String route) {
        attach(ctx);
        return OneCxiAudioRouter.setRoute(ctx, route);
    }

    /** The FCM data payload (JSON object) stored while Go was not running, or "". */
    public static String takePendingIncomingCall(Context ctx) {
        attach(ctx);
        return OneCxiPendingStore.takeIncomingCall(ctx);
    }

    /** "&lt;action&gt; &lt;callId&gt;" (accept|decline) from the launch intent or storage, or "". */
    public static String takePendingCallAction(Context ctx) {
        attach(ctx);
        String fromIntent = "";
        if (ctx instanceof Activity) {
            Intent launch = ((Activity) ctx).getIntent();
            if (launch != null) {
                String action = launch.getStringExtra(OneCxiCallActionReceiver.EXTRA_ACTION);
                String callId = launch.getStringExtra(OneCxiCallActionReceiver.EXTRA_CALL_ID);
                // Consume it so a later call (or an activity re-creation) does
                // not answer the same call twice.
                launch.removeExtra(OneCxiCallActionReceiver.EXTRA_ACTION);
                launch.removeExtra(OneCxiCallActionReceiver.EXTRA_CALL_ID);
                if (isCallAction(action) && !isBlank(callId)) {
                    fromIntent = action + " " + callId;
                }
            }
        }
        String stored = OneCxiPendingStore.takeCallAction(ctx);
        return fromIntent.isEmpty() ? stored : fromIntent;
    }

    public static String storeRegisteredNumber(Context ctx, String number) {
        attach(ctx);
        if (number == null) {
            return error(KIND_INVALID, "null number");
        }
        String n = number.trim();
        if (!n.isEmpty() && !isPlausibleNumber(n)) {
            return error(KIND_INVALID, "not a phone number");
        }
        return OneCxiPendingStore.storeRegisteredNumber(ctx, n);
    }

    public static String registeredNumber(Context ctx) {
        attach(ctx);
        return OneCxiPendingStore.registeredNumber(ctx);
    }

    // ---- Java side helpers ----

    /**
     * Loads the Go library in this process (System.loadLibrary, so that the
     * native methods above resolve) and reports whether it is loaded.
     * GoNativeActivity already loads it by the same name; loading again is a
     * no-op. Only called once Go is known to run here (see goAttached): loading
     * the library from a service would start the Go runtime without the app.
     */
    static boolean ensureLoaded(Context ctx) {
        synchronized (LOCK) {
            if (libraryLoaded != null) {
                return libraryLoaded;
            }
            String name = libraryName(ctx);
            try {
                System.loadLibrary(name);
                libraryLoaded = Boolean.TRUE;
            } catch (Throwable t) { // UnsatisfiedLinkError, SecurityException
                Log.e(TAG, "cannot load lib" + name + ".so", t);
                libraryLoaded = Boolean.FALSE;
            }
            return libraryLoaded;
        }
    }

    /**
     * The Go library's name as GoNativeActivity reads it: the activity's
     * android.app.lib_name meta-data (make android sets it to "onecxi").
     */
    static String libraryName(Context ctx) {
        try {
            ActivityInfo ai = ctx.getPackageManager().getActivityInfo(
                    new ComponentName(ctx.getPackageName(), GO_ACTIVITY), PackageManager.GET_META_DATA);
            Bundle md = ai.metaData;
            String name = md == null ? null : md.getString("android.app.lib_name");
            if (!isBlank(name)) {
                return name;
            }
        } catch (PackageManager.NameNotFoundException e) {
            Log.w(TAG, "no " + GO_ACTIVITY + " in the manifest", e);
        }
        return DEFAULT_LIB_NAME;
    }

    /** Whether native callbacks can go to a running Go app in this process. */
    static boolean goRunning(Context ctx) {
        return goAttached && ensureLoaded(ctx);
    }

    /** Marks Go as running here; the first time, hands over what Java kept for it. */
    private static void attach(Context ctx) {
        if (goAttached) {
            return;
        }
        final Context app = ctx.getApplicationContext() != null ? ctx.getApplicationContext() : ctx;
        synchronized (LOCK) {
            if (goAttached) {
                return;
            }
            goAttached = true;
        }
        if (!ensureLoaded(app)) {
            return;
        }
        // A token that arrived while the app was not running. Posted, not
        // called here: Go is inside a JNI call right now and may hold locks.
        runOnMainLater(new Runnable() {
            @Override
            public void run() {
                String token = OneCxiPendingStore.takeToken(app);
                if (!token.isEmpty()) {
                    deliverTokenRefreshed(app, token);
                }
            }
        });
    }

    static void deliverPermissionsResult(final int requestCode, final boolean granted) {
        try {
            nativePermissionsResult(requestCode, granted);
        } catch (UnsatisfiedLinkError e) {
            Log.e(TAG, "nativePermissionsResult is not in the Go library", e);
        }
    }

    static void deliverFcmToken(int requestCode, String token, String error) {
        try {
            nativeFcmToken(requestCode, token == null ? "" : token, error == null ? "" : error);
        } catch (UnsatisfiedLinkError e) {
            Log.e(TAG, "nativeFcmToken is not in the Go library", e);
        }
    }

    /** onNewToken: to Go when it runs, else kept until it does. */
    static void deliverTokenRefreshed(Context ctx, String token) {
        if (goRunning(ctx)) {
            try {
                nativeTokenRefreshed(token);
                return;
            } catch (UnsatisfiedLinkError e) {
                Log.e(TAG, "nativeTokenRefreshed is not in the Go library", e);
            }
        }
        OneCxiPendingStore.storeToken(ctx, token);
    }

    /** An FCM data payload: to Go when it runs (returns true), else false. */
    static boolean deliverIncomingPush(Context ctx, String dataJson) {
        if (!goRunning(ctx)) {
            return false;
        }
        try {
            // false: Go runs but nothing in it takes pushes now (the SDK is
            // not set up yet, or the app is quitting): ring from Java instead.
            return nativeIncomingPush(dataJson);
        } catch (UnsatisfiedLinkError e) {
            Log.e(TAG, "nativeIncomingPush is not in the Go library", e);
            return false;
        }
    }

    /**
     * A user's answer from a notification, the incoming-call screen or the
     * ongoing-call notification. Go gets it when it runs; otherwise accept and
     * decline are stored for takePendingCallAction (accept also opens the app,
     * which starts Go).
     */
    static void dispatchCallAction(Context ctx, String callId, String action, boolean mayStartActivity) {
        if (!isCallAction(action) && !CALL_HANGUP.equals(action)) {
            Log.w(TAG, "unknown call action " + action);
            return;
        }
        if (!CALL_HANGUP.equals(action)) {
            // The ringing is over whatever Go makes of it. A stored push stays:
            // Go needs it (caller, call type) to act on a stored answer.
            OneCxiNotifications.cancelIncoming(ctx, callId);
            OneCxiIncomingCallActivity.finishFor(callId);
        }
        boolean delivered = false;
        if (goRunning(ctx)) {
            try {
                // false: nothing in Go takes answers now; store it as if Go
                // were not running.
                delivered = nativeCallAction(callId, action);
            } catch (UnsatisfiedLinkError e) {
                Log.e(TAG, "nativeCallAction is not in the Go library", e);
            }
        }
        if (!delivered) {
            if (CALL_HANGUP.equals(action)) {
                // No Go app in this process means no call: drop the stale service.
                OneCxiCallService.stop(ctx);
                return;
            }
            OneCxiPendingStore.storeCallAction(ctx, action, callId);
        }
        if (CALL_ACCEPT.equals(action) && mayStartActivity) {
            openApp(ctx, delivered ? null : action, callId);
        }
    }

    /** Brings the app's task to the front (or starts it), like a launcher tap. */
    static void openApp(Context ctx, String pendingAction, String callId) {
        Intent launch = OneCxiNotifications.launchIntent(ctx);
        if (pendingAction != null) {
            launch.putExtra(OneCxiCallActionReceiver.EXTRA_ACTION, pendingAction);
            launch.putExtra(OneCxiCallActionReceiver.EXTRA_CALL_ID, callId);
        }
        try {
            ctx.startActivity(launch);
        } catch (RuntimeException e) {
            Log.w(TAG, "cannot open the app", e);
        }
    }

    static String[] missingPermissions(Context ctx) {
        boolean audio = granted(ctx, Manifest.permission.RECORD_AUDIO);
        boolean notify = Build.VERSION.SDK_INT < Build.VERSION_CODES.TIRAMISU
                || granted(ctx, PERMISSION_POST_NOTIFICATIONS);
        if (audio && notify) {
            return new String[0];
        }
        if (!audio && !notify) {
            return new String[] {Manifest.permission.RECORD_AUDIO, PERMISSION_POST_NOTIFICATIONS};
        }
        return new String[] {audio ? PERMISSION_POST_NOTIFICATIONS : Manifest.permission.RECORD_AUDIO};
    }

    static boolean granted(Context ctx, String permission) {
        return ctx.checkSelfPermission(permission) == PackageManager.PERMISSION_GRANTED;
    }

    /** The call actions Go is told of (nativeCallAction, takePendingCallAction). */
    static final String CALL_ACCEPT = "accept";
    static final String CALL_DECLINE = "decline";
    static final String CALL_HANGUP = "hangup";

    static boolean isCallAction(String action) {
        return CALL_ACCEPT.equals(action) || CALL_DECLINE.equals(action);
    }

    static boolean isBlank(String s) {
        return s == null || s.trim().isEmpty();
    }

    /** Digits with an optional leading +, as registered numbers are (guide section 11). */
    static boolean isPlausibleNumber(String s) {
        int start = s.startsWith("+") ? 1 : 0;
        if (s.length() - start < 1 || s.length() > 32) {
            return false;
        }
        for (int i = start; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    static String error(String kind, String message) {
        String s = kind + ": " + (message == null ? "" : message);
        return s.length() > MAX_ERROR ? s.substring(0, MAX_ERROR) : s;
    }

    /** "failed: &lt;exception class&gt;: &lt;message&gt;". */
    static String error(String kind, Throwable t) {
        String msg = t.getMessage();
        return error(kind, t.getClass().getName() + (msg == null ? "" : ": " + msg));
    }

    static Handler mainHandler() {
        Handler h = mainHandler;
        if (h == null) {
            synchronized (LOCK) {
                if (mainHandler == null) {
                    mainHandler = new Handler(Looper.getMainLooper());
                }
                h = mainHandler;
            }
        }
        return h;
    }

    static boolean onMainThread() {
        return Looper.myLooper() == Looper.getMainLooper();
    }

    /** Runs r on the main thread: now when already there, else posted. */
    static void runOnMain(Runnable r) {
        if (onMainThread()) {
            r.run();
        } else {
            mainHandler().post(r);
        }
    }

    /** Always posts, so that r runs after the current call returns. */
    static void runOnMainLater(Runnable r) {
        mainHandler().post(r);
    }
}
