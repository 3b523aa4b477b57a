package com.onecxi.phone;

import android.util.Log;

import com.google.firebase.messaging.FirebaseMessagingService;
import com.google.firebase.messaging.RemoteMessage;

import org.json.JSONException;
import org.json.JSONObject;

import java.util.Map;
import java.util.UUID;

/**
 * FCM's entry point (guide section 9: data-only pushes, "callFrom", "callTo",
 * "callType", "registeredNumber", optional "callerName", "callId", "event").
 *
 * <p>When the Go app runs in this process the payload goes to it
 * (nativeIncomingPush) and Go decides what to show. When it does not (the app
 * was killed and FCM started the process for this message), Java rings by
 * itself: it stores the payload for takePendingIncomingCall and posts the
 * incoming-call notification, whose full-screen intent opens the call screen
 * on the lock screen. "event": "end" takes such a ringing call away again.
 */
public final class OneCxiMessagingService extends FirebaseMessagingService {
    private static final String TAG = "OneCxiMessaging";

    @Override
    public void onMessageReceived(RemoteMessage message) {
        Map<String, String> data = message.getData();
        if (data == null || data.isEmpty()) {
            // A notification message is FCM's to show; calls come as data.
            return;
        }
        handlePayload(this, data);
    }

    private static void handlePayload(android.content.Context ctx, Map<String, String> data) {
        JSONObject json = new JSONObject();
        try {
            for (Map.Entry<String, String> e : data.entrySet()) {
                json.put(e.getKey(), e.getValue() == null ? "" : e.getValue());
            }
        } catch (JSONException e) {
            Log.e(TAG, "unreadable push payload", e);
            return;
        }
        if (OneCxiBridge.deliverIncomingPush(ctx, json.toString())) {
            return;
        }
        ringWithoutGo(ctx, json);
    }

    private static void ringWithoutGo(android.content.Context ctx, JSONObject json) {
        String event = json.optString("event", "initial");
        String callId = json.optString("callId", "");
        if ("end".equalsIgnoreCase(event)) {
            // The caller gave up (or another device answered): stop ringing.
            String ringing = callId.isEmpty() ? OneCxiPendingStore.pendingCallId(ctx) : callId;
            OneCxiPendingStore.forgetIncomingCall(ctx, callId);
            if (!ringing.isEmpty()) {
                OneCxiNotifications.cancelIncoming(ctx, ringing);
                OneCxiIncomingCallActivity.finishFor(ringing);
            }
            return;
        }
        String from = json.optString("callFrom", "");
        String to = json.optString("callTo", "");
        String type = json.optString("callType", "");
        String registered = json.optString("registeredNumber", "");
        if (from.isEmpty() || to.isEmpty() || type.isEmpty() || registered.isEmpty()) {
            Log.w(TAG, "push without callFrom, callTo, callType or registeredNumber; ignored");
            return;
        }
        // On a device whose user signed in with another number since the
        // server registered this token, the call is not for this user.
        String mine = OneCxiPendingStore.registeredNumber(ctx);
        if (!mine.isEmpty() && !mine.equals(registered) && !mine.equals(to)) {
            Log.w(TAG, "push for another registered number; ignored");
            return;
        }
        if (callId.isEmpty()) {
            // The guide's payload may leave callId out; the notification's
            // actions and the Go app need one name for this call.
            callId = UUID.randomUUID().toString();
            try {
                json.put("callId", callId);
            } catch (JSONException e) {
                return;
            }
        }
        OneCxiPendingStore.storeIncomingCall(ctx, json.toString());
        String err = OneCxiNotifications.showIncoming(ctx, callId, json.optString("callerName", ""), from, type);
        if (!err.isEmpty()) {
            Log.e(TAG, "cannot ring: " + err);
        }
    }

    @Override
    public void onNewToken(String token) {
        if (token == null || token.isEmpty()) {
            return;
        }
        OneCxiBridge.deliverTokenRefreshed(this, token);
    }
}
