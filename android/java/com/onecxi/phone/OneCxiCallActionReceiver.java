package com.onecxi.phone;

import android.content.BroadcastReceiver;
import android.content.Context;
import android.content.Intent;
import android.util.Log;

/**
 * Notification buttons that need no screen: Decline on the ringing
 * notification and Hang up on the ongoing-call one. (Accept opens
 * OneCxiIncomingCallActivity instead, see there.) When the Go app runs in
 * this process the action goes to it (nativeCallAction); otherwise it is
 * stored for takePendingCallAction.
 */
public final class OneCxiCallActionReceiver extends BroadcastReceiver {
    private static final String TAG = "OneCxiCallAction";

    static final String ACTION_DECLINE = "com.onecxi.phone.action.DECLINE";
    static final String ACTION_HANGUP = "com.onecxi.phone.action.HANGUP";

    /** Extras on these intents, the call screen's and the call service's, and the app's launch intent (takePendingCallAction). */
    static final String EXTRA_CALL_ID = "com.onecxi.phone.extra.CALL_ID";
    static final String EXTRA_ACTION = "com.onecxi.phone.extra.CALL_ACTION";

    static Intent intent(Context ctx, String action, String callId) {
        return new Intent(ctx, OneCxiCallActionReceiver.class)
                .setAction(action)
                .putExtra(EXTRA_CALL_ID, callId);
    }

    @Override
    public void onReceive(Context context, Intent intent) {
        String callId = intent.getStringExtra(EXTRA_CALL_ID);
        if (OneCxiBridge.isBlank(callId)) {
            Log.w(TAG, "call action without a call id");
            return;
        }
        String action;
        if (ACTION_DECLINE.equals(intent.getAction())) {
            action = OneCxiBridge.CALL_DECLINE;
        } else if (ACTION_HANGUP.equals(intent.getAction())) {
            action = OneCxiBridge.CALL_HANGUP;
        } else {
            Log.w(TAG, "unknown action " + intent.getAction());
            return;
        }
        OneCxiBridge.dispatchCallAction(context, callId, action, false);
    }
}
