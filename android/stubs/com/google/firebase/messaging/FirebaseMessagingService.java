/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * com.google.firebase.messaging.FirebaseMessagingService (firebase-messaging):
 * the members we use. The real class extends EnhancedIntentService, which
 * owns onBind and onStartCommand (final there, and here).
 */
package com.google.firebase.messaging;

import android.app.Service;
import android.content.Intent;
import android.os.IBinder;

public abstract class FirebaseMessagingService extends Service {
    public FirebaseMessagingService() {
        throw new RuntimeException("Stub!");
    }

    @Override
    public final IBinder onBind(Intent intent) {
        throw new RuntimeException("Stub!");
    }

    @Override
    public final int onStartCommand(Intent intent, int flags, int startId) {
        throw new RuntimeException("Stub!");
    }

    public void onMessageReceived(RemoteMessage message) {
        throw new RuntimeException("Stub!");
    }

    public void onNewToken(String token) {
        throw new RuntimeException("Stub!");
    }
}
