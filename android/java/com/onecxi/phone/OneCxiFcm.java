package com.onecxi.phone;

import android.content.Context;
import android.util.Log;

import com.google.android.gms.tasks.OnCompleteListener;
import com.google.android.gms.tasks.Task;
import com.google.firebase.messaging.FirebaseMessaging;

/**
 * The FCM token. Firebase's classes are touched only here, and only once
 * available() said they are in the APK: a build without Firebase (make
 * android without FIREBASE_DIR, docs/android.md) then answers "unsupported"
 * instead of failing with NoClassDefFoundError inside OneCxiBridge.
 */
final class OneCxiFcm {
    private static final String TAG = "OneCxiFcm";

    private OneCxiFcm() {
    }

    static boolean available() {
        try {
            Class.forName("com.google.firebase.messaging.FirebaseMessaging", false, OneCxiFcm.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        } catch (LinkageError e) {
            return false;
        }
    }

    static void requestToken(Context app, final int requestCode) {
        if (!available()) {
            answer(requestCode, "", OneCxiBridge.error(OneCxiBridge.KIND_UNSUPPORTED,
                    "Firebase Messaging is not part of this build"));
            return;
        }
        Task<String> task;
        try {
            task = FirebaseMessaging.getInstance().getToken();
        } catch (IllegalStateException e) {
            // "Default FirebaseApp is not initialized": no google-services values.
            answer(requestCode, "", OneCxiBridge.error(OneCxiBridge.KIND_UNSUPPORTED,
                    "Firebase is not configured in this build: " + e.getMessage()));
            return;
        } catch (RuntimeException e) {
            answer(requestCode, "", OneCxiBridge.error(OneCxiBridge.KIND_FAILED, e));
            return;
        }
        task.addOnCompleteListener(new OnCompleteListener<String>() {
            @Override
            public void onComplete(Task<String> t) {
                if (t.isSuccessful() && t.getResult() != null && !t.getResult().isEmpty()) {
                    OneCxiBridge.deliverFcmToken(requestCode, t.getResult(), "");
                    return;
                }
                Exception e = t.getException();
                Log.w(TAG, "no FCM token", e);
                OneCxiBridge.deliverFcmToken(requestCode, "", e == null
                        ? OneCxiBridge.error(OneCxiBridge.KIND_FAILED, "FCM returned no token")
                        : OneCxiBridge.error(OneCxiBridge.KIND_FAILED, e));
            }
        });
    }

    /** Answers after the caller's JNI call has returned, as FCM's own answer would. */
    private static void answer(final int requestCode, final String token, final String error) {
        OneCxiBridge.runOnMainLater(new Runnable() {
            @Override
            public void run() {
                OneCxiBridge.deliverFcmToken(requestCode, token, error);
            }
        });
    }
}
