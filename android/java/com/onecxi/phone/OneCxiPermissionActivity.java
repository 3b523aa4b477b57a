package com.onecxi.phone;

import android.app.Activity;
import android.content.pm.PackageManager;
import android.os.Bundle;

/**
 * A transparent activity that asks for RECORD_AUDIO (and POST_NOTIFICATIONS on
 * Android 13+) and hands the answer to Go (nativePermissionsResult). Its own
 * activity because the answer arrives in an Activity callback, and
 * GoNativeActivity is Fyne's.
 */
public final class OneCxiPermissionActivity extends Activity {
    static final String EXTRA_REQUEST_CODE = "com.onecxi.phone.extra.REQUEST_CODE";
    private static final String STATE_ASKED = "asked";
    private static final int REQUEST = 1;

    private int requestCode;
    private boolean asked;
    private boolean answered;

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        requestCode = getIntent().getIntExtra(EXTRA_REQUEST_CODE, 0);
        // Re-created (rotation) while the dialog is up: the answer comes to
        // this instance; do not ask twice.
        asked = savedInstanceState != null && savedInstanceState.getBoolean(STATE_ASKED, false);
        if (asked) {
            return;
        }
        String[] missing = OneCxiBridge.missingPermissions(this);
        if (missing.length == 0) {
            answer(true);
            return;
        }
        asked = true;
        requestPermissions(missing, REQUEST);
    }

    @Override
    protected void onSaveInstanceState(Bundle outState) {
        super.onSaveInstanceState(outState);
        outState.putBoolean(STATE_ASKED, asked);
    }

    @Override
    public void onRequestPermissionsResult(int code, String[] permissions, int[] results) {
        if (code != REQUEST) {
            return;
        }
        // An empty result means the request was interrupted; count as denied.
        boolean all = results.length > 0;
        for (int r : results) {
            all &= r == PackageManager.PERMISSION_GRANTED;
        }
        // Check again: a permission granted earlier is not in this request.
        answer(all && OneCxiBridge.missingPermissions(this).length == 0);
    }

    private void answer(boolean granted) {
        if (!answered) {
            answered = true;
            OneCxiBridge.deliverPermissionsResult(requestCode, granted);
        }
        finish();
        overridePendingTransition(0, 0);
    }

    @Override
    protected void onDestroy() {
        // Closed without an answer (the system killed the dialog): denied.
        if (!answered && isFinishing()) {
            answered = true;
            OneCxiBridge.deliverPermissionsResult(requestCode, false);
        }
        super.onDestroy();
    }
}
