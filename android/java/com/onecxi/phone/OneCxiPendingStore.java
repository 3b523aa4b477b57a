package com.onecxi.phone;

import android.content.Context;
import android.content.SharedPreferences;
import android.util.Log;

import org.json.JSONException;
import org.json.JSONObject;

/**
 * What Java keeps for the Go app while it is not running: the incoming-call
 * push that woke a killed app, the user's accept/decline from the lock screen,
 * a refreshed FCM token, and the registered number (guide section 11,
 * storeRegisteredNumber, "for kill-state recovery").
 *
 * <p>Private SharedPreferences, written with commit(): the process that stores
 * a pending call (FCM's) can be killed right after onMessageReceived returns,
 * before an apply() would have reached the disk.
 */
final class OneCxiPendingStore {
    private static final String TAG = "OneCxiPendingStore";
    private static final String PREFS = "com.onecxi.phone.bridge";

    private static final String KEY_PUSH = "pending_push";
    private static final String KEY_PUSH_AT = "pending_push_at";
    private static final String KEY_ACTION = "pending_action";
    private static final String KEY_ACTION_AT = "pending_action_at";
    private static final String KEY_TOKEN = "pending_token";
    private static final String KEY_NUMBER = "registered_number";

    /**
     * A pending call or answer older than this is dropped: no server rings a
     * call this long, so opening the app later must not answer a dead call.
     */
    static final long MAX_AGE_MS = 90L * 1000L;

    private OneCxiPendingStore() {
    }

    private static SharedPreferences prefs(Context ctx) {
        return ctx.getApplicationContext().getSharedPreferences(PREFS, Context.MODE_PRIVATE);
    }

    private static boolean fresh(long at) {
        long age = System.currentTimeMillis() - at;
        // A negative age is a clock change; keep it rather than lose a call.
        return age < MAX_AGE_MS;
    }

    static synchronized void storeIncomingCall(Context ctx, String dataJson) {
        boolean ok = prefs(ctx).edit()
                .putString(KEY_PUSH, dataJson)
                .putLong(KEY_PUSH_AT, System.currentTimeMillis())
                .commit();
        if (!ok) {
            Log.e(TAG, "cannot store the pending incoming call");
        }
    }

    static synchronized String takeIncomingCall(Context ctx) {
        SharedPreferences p = prefs(ctx);
        String json = p.getString(KEY_PUSH, "");
        long at = p.getLong(KEY_PUSH_AT, 0L);
        if (!json.isEmpty()) {
            p.edit().remove(KEY_PUSH).remove(KEY_PUSH_AT).commit();
        }
        return json.isEmpty() || !fresh(at) ? "" : json;
    }

    /**
     * Drops the pending call when it is the one given (an "end" push, or the
     * user answered it); a null or empty callId drops whatever is pending.
     */
    static synchronized void forgetIncomingCall(Context ctx, String callId) {
        SharedPreferences p = prefs(ctx);
        String json = p.getString(KEY_PUSH, "");
        if (json.isEmpty()) {
            return;
        }
        if (callId != null && !callId.isEmpty()) {
            try {
                String pending = new JSONObject(json).optString("callId", "");
                if (!pending.isEmpty() && !pending.equals(callId)) {
                    return;
                }
            } catch (JSONException e) {
                // Unreadable: drop it.
            }
        }
        p.edit().remove(KEY_PUSH).remove(KEY_PUSH_AT).commit();
    }

    /** The callId of the stored pending call, or "". */
    static synchronized String pendingCallId(Context ctx) {
        String json = prefs(ctx).getString(KEY_PUSH, "");
        if (json.isEmpty()) {
            return "";
        }
        try {
            return new JSONObject(json).optString("callId", "");
        } catch (JSONException e) {
            return "";
        }
    }

    static synchronized void storeCallAction(Context ctx, String action, String callId) {
        prefs(ctx).edit()
                .putString(KEY_ACTION, action + " " + callId)
                .putLong(KEY_ACTION_AT, System.currentTimeMillis())
                .commit();
    }

    static synchronized String takeCallAction(Context ctx) {
        SharedPreferences p = prefs(ctx);
        String action = p.getString(KEY_ACTION, "");
        long at = p.getLong(KEY_ACTION_AT, 0L);
        if (!action.isEmpty()) {
            p.edit().remove(KEY_ACTION).remove(KEY_ACTION_AT).commit();
        }
        return action.isEmpty() || !fresh(at) ? "" : action;
    }

    static synchronized void storeToken(Context ctx, String token) {
        prefs(ctx).edit().putString(KEY_TOKEN, token).commit();
    }

    static synchronized String takeToken(Context ctx) {
        SharedPreferences p = prefs(ctx);
        String token = p.getString(KEY_TOKEN, "");
        if (!token.isEmpty()) {
            p.edit().remove(KEY_TOKEN).commit();
        }
        return token;
    }

    static synchronized String storeRegisteredNumber(Context ctx, String number) {
        boolean ok = prefs(ctx).edit().putString(KEY_NUMBER, number).commit();
        return ok ? "" : OneCxiBridge.error(OneCxiBridge.KIND_FAILED, "cannot write the app's preferences");
    }

    static synchronized String registeredNumber(Context ctx) {
        return prefs(ctx).getString(KEY_NUMBER, "");
    }
}
