/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * com.google.firebase.messaging.FirebaseMessaging (firebase-messaging): the
 * members we use.
 */
package com.google.firebase.messaging;

import com.google.android.gms.tasks.Task;

public class FirebaseMessaging {
    private FirebaseMessaging() {
    }

    public static synchronized FirebaseMessaging getInstance() {
        throw new RuntimeException("Stub!");
    }

    public Task<String> getToken() {
        throw new RuntimeException("Stub!");
    }
}
