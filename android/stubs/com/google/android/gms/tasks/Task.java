/*
 * COMPILE-ONLY STUB. Never part of the dex or the APK: scripts/android-build.sh
 * compiles the stubs and merges them into the boot class path javac compiles
 * against (android/tools/MergeStubs.java), and make android-check fails if
 * any stubbed class is found in classes.dex. At run time the device's own
 * framework (or Firebase's library) provides the real thing.
 *
 * com.google.android.gms.tasks.Task (play-services-tasks, which
 * firebase-messaging depends on): the members we use.
 */
package com.google.android.gms.tasks;

public abstract class Task<TResult> {
    public Task() {
    }

    public abstract boolean isSuccessful();

    public abstract TResult getResult();

    public abstract Exception getException();

    public Task<TResult> addOnCompleteListener(OnCompleteListener<TResult> listener) {
        throw new RuntimeException("Stub!");
    }
}
