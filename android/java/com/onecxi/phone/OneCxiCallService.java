package com.onecxi.phone;

import android.Manifest;
import android.app.ForegroundServiceStartNotAllowedException;
import android.app.Notification;
import android.app.Service;
import android.content.Context;
import android.content.Intent;
import android.content.pm.ServiceInfo;
import android.os.Build;
import android.os.IBinder;
import android.os.PowerManager;
import android.util.Log;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the process, the microphone and the network alive for the length of a
 * call, with the ongoing-call notification (Hang up). Foreground service types
 * phoneCall|microphone (manifest): phoneCall needs FOREGROUND_SERVICE_PHONE_CALL
 * and MANAGE_OWN_CALLS on Android 14; microphone needs
 * FOREGROUND_SERVICE_MICROPHONE, RECORD_AUDIO granted, and the app in the
 * foreground (or started from the user's tap on a notification) when the
 * service starts. Removing the app from Recents does not stop it: the call
 * goes on (guide section 17, "Kill the app during a call").
 */
public final class OneCxiCallService extends Service {
    private static final String TAG = "OneCxiCallService";

    static final String ACTION_START = "com.onecxi.phone.action.START_CALL_SERVICE";
    private static final String EXTRA_CALL_ID = OneCxiCallActionReceiver.EXTRA_CALL_ID;
    private static final String EXTRA_REMOTE = "com.onecxi.phone.extra.REMOTE";
    private static final String EXTRA_TOKEN = "com.onecxi.phone.extra.TOKEN";

    /**
     * How long startCallService waits for onStartCommand's startForeground
     * result. onStartCommand runs on the main thread, so a caller on the main
     * thread cannot wait and gets "" (failures are logged).
     */
    private static final long RESULT_WAIT_MS = 3000L;
    /** A wake lock that outlives every real call is a bug; this caps it. */
    private static final long WAKE_LOCK_MAX_MS = 6L * 60L * 60L * 1000L;

    private static final Object LOCK = new Object();
    private static final Map<Integer, Pending> PENDING = new HashMap<Integer, Pending>();
    private static int nextToken = 1;

    private static final class Pending {
        final CountDownLatch done = new CountDownLatch(1);
        volatile String error = "";
    }

    private String callId = "";
    private long since;
    private PowerManager.WakeLock wakeLock;

    static String start(Context ctx, String callId, String remote) {
        Pending p = new Pending();
        int token;
        synchronized (LOCK) {
            token = nextToken++;
            PENDING.put(token, p);
        }
        Intent i = new Intent(ctx, OneCxiCallService.class)
                .setAction(ACTION_START)
                .putExtra(EXTRA_CALL_ID, callId)
                .putExtra(EXTRA_REMOTE, remote)
                .putExtra(EXTRA_TOKEN, token);
        try {
            try {
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O) {
                    ctx.startForegroundService(i);
                } else {
                    ctx.startService(i);
                }
            } catch (RuntimeException e) {
                return classify(e);
            }
            if (OneCxiBridge.onMainThread()) {
                return "";
            }
            try {
                if (!p.done.await(RESULT_WAIT_MS, TimeUnit.MILLISECONDS)) {
                    Log.w(TAG, "no startForeground result after " + RESULT_WAIT_MS + " ms");
                    return "";
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "";
            }
            return p.error;
        } finally {
            synchronized (LOCK) {
                PENDING.remove(token);
            }
        }
    }

    static String stop(Context ctx) {
        try {
            ctx.stopService(new Intent(ctx, OneCxiCallService.class));
            return "";
        } catch (RuntimeException e) {
            return OneCxiBridge.error(OneCxiBridge.KIND_FAILED, e);
        }
    }

    /** Maps a refusal to start the service to the contract's kinds. */
    static String classify(RuntimeException e) {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S && e instanceof ForegroundServiceStartNotAllowedException) {
            // Android 12+: started from the background without an exemption.
            return OneCxiBridge.error(OneCxiBridge.KIND_NOT_ALLOWED, e);
        }
        if (e instanceof SecurityException) {
            // A foreground service type whose permissions are missing.
            return OneCxiBridge.error(OneCxiBridge.KIND_PERMISSION, e);
        }
        if (e instanceof IllegalStateException) {
            // Android 8+: background service start limits.
            return OneCxiBridge.error(OneCxiBridge.KIND_NOT_ALLOWED, e);
        }
        return OneCxiBridge.error(OneCxiBridge.KIND_FAILED, e);
    }

    private static void report(int token, String error) {
        Pending p;
        synchronized (LOCK) {
            p = PENDING.get(token);
        }
        if (p != null) {
            p.error = error;
            p.done.countDown();
        }
    }

    @Override
    public int onStartCommand(Intent intent, int flags, int startId) {
        if (intent == null || !ACTION_START.equals(intent.getAction())) {
            // A restart without our intent: the call that wanted this service
            // died with its process. (START_NOT_STICKY makes this rare.)
            stopSelf(startId);
            return START_NOT_STICKY;
        }
        String id = intent.getStringExtra(EXTRA_CALL_ID);
        String remote = intent.getStringExtra(EXTRA_REMOTE);
        if (id == null) {
            id = "";
        }
        if (!id.equals(callId) || since == 0L) {
            since = System.currentTimeMillis();
        }
        callId = id;
        String error = goForeground(OneCxiNotifications.ongoing(this, id, remote, since));
        report(intent.getIntExtra(EXTRA_TOKEN, 0), error);
        if (!error.isEmpty()) {
            Log.e(TAG, "cannot run in the foreground: " + error);
            stopSelf(startId);
            return START_NOT_STICKY;
        }
        acquireWakeLock();
        return START_NOT_STICKY;
    }

    /** startForeground with the types this call may use; "" or an error. */
    private String goForeground(Notification n) {
        OneCxiNotifications.ensureChannels(this);
        if (Build.VERSION.SDK_INT < Build.VERSION_CODES.Q) {
            try {
                startForeground(OneCxiNotifications.ID_ONGOING, n);
                return "";
            } catch (RuntimeException e) {
                return classify(e);
            }
        }
        int phone = ServiceInfo.FOREGROUND_SERVICE_TYPE_PHONE_CALL;
        // Asking for the microphone type without RECORD_AUDIO throws on
        // Android 14; microphone is a type from Android 11.
        boolean mic = Build.VERSION.SDK_INT >= Build.VERSION_CODES.R
                && OneCxiBridge.granted(this, Manifest.permission.RECORD_AUDIO);
        if (mic) {
            try {
                startForeground(OneCxiNotifications.ID_ONGOING, n,
                        phone | ServiceInfo.FOREGROUND_SERVICE_TYPE_MICROPHONE);
                return "";
            } catch (RuntimeException e) {
                // Android 14 refuses the microphone type to a service started
                // from the background (e.g. not from the user's tap). Keep the
                // call's service as phoneCall: audio still flows while the app
                // is visible, and the call is not lost.
                Log.w(TAG, "microphone type refused; running as phoneCall only", e);
            }
        }
        try {
            startForeground(OneCxiNotifications.ID_ONGOING, n, phone);
            return "";
        } catch (RuntimeException e) {
            return classify(e);
        }
    }

    private void acquireWakeLock() {
        if (wakeLock != null && wakeLock.isHeld()) {
            return;
        }
        PowerManager pm = (PowerManager) getSystemService(Context.POWER_SERVICE);
        if (pm == null) {
            return;
        }
        // The CPU must keep the call's network and audio threads running with
        // the screen off.
        wakeLock = pm.newWakeLock(PowerManager.PARTIAL_WAKE_LOCK, "OneCxiPhone:call");
        wakeLock.setReferenceCounted(false);
        wakeLock.acquire(WAKE_LOCK_MAX_MS);
    }

    private void releaseWakeLock() {
        if (wakeLock != null && wakeLock.isHeld()) {
            wakeLock.release();
        }
        wakeLock = null;
    }

    @Override
    public void onTaskRemoved(Intent rootIntent) {
        // The user swiped the app away from Recents. The call goes on: this
        // foreground service keeps the process, so Go's call keeps running,
        // and the notification's Hang up and the app's icon still reach it.
        Log.i(TAG, "task removed; the call " + callId + " goes on");
    }

    @Override
    @SuppressWarnings("deprecation")
    public void onDestroy() {
        releaseWakeLock();
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.N) {
            stopForeground(Service.STOP_FOREGROUND_REMOVE);
        } else {
            stopForeground(true);
        }
        callId = "";
        since = 0L;
        super.onDestroy();
    }

    @Override
    public IBinder onBind(Intent intent) {
        return null;
    }
}
