package com.onecxi.phone;

import android.app.Activity;
import android.app.KeyguardManager;
import android.content.Context;
import android.content.Intent;
import android.graphics.Color;
import android.graphics.Typeface;
import android.graphics.drawable.GradientDrawable;
import android.os.Build;
import android.os.Bundle;
import android.util.Log;
import android.util.TypedValue;
import android.view.Gravity;
import android.view.View;
import android.view.Window;
import android.view.WindowManager;
import android.widget.Button;
import android.widget.LinearLayout;
import android.widget.TextView;

import java.lang.ref.WeakReference;

/**
 * The incoming-call screen the ringing notification's full-screen intent opens,
 * over the lock screen and with the screen turned on. Accept answers (and
 * opens the app: the in-call screen is Fyne's); Decline declines. Also the
 * target of the notification's Accept button, which then answers without
 * showing this screen (an activity, not a receiver: Android 12 forbids starting
 * the app from a receiver a notification started).
 *
 * <p>The layout is built in code: one small screen, no layout XML to keep in
 * step with the resource build.
 */
public final class OneCxiIncomingCallActivity extends Activity {
    private static final String TAG = "OneCxiIncomingCall";

    static final String ACTION_SHOW = "com.onecxi.phone.action.SHOW_INCOMING_CALL";
    static final String ACTION_ACCEPT = "com.onecxi.phone.action.ACCEPT_FROM_NOTIFICATION";

    static final String EXTRA_CALL_ID = OneCxiCallActionReceiver.EXTRA_CALL_ID;
    static final String EXTRA_CALLER_NAME = "com.onecxi.phone.extra.CALLER_NAME";
    static final String EXTRA_CALLER_NUMBER = "com.onecxi.phone.extra.CALLER_NUMBER";
    static final String EXTRA_CALL_TYPE = "com.onecxi.phone.extra.CALL_TYPE";

    /** A ringing screen nobody answers closes when the ringing notification does. */
    private static final long AUTO_CLOSE_MS = OneCxiNotifications.RING_TIMEOUT_MS;

    /** The screen on show, so that dismissIncomingCall can close it. */
    private static WeakReference<OneCxiIncomingCallActivity> current = new WeakReference<OneCxiIncomingCallActivity>(null);

    private String callId = "";
    private TextView nameView;
    private TextView detailView;

    private final Runnable autoClose = new Runnable() {
        @Override
        public void run() {
            finishScreen();
        }
    };

    static Intent intent(Context ctx, String action, String callId, String callerName, String callerNumber,
            String callType) {
        return new Intent(ctx, OneCxiIncomingCallActivity.class)
                .setAction(action)
                .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK | Intent.FLAG_ACTIVITY_NO_USER_ACTION)
                .putExtra(EXTRA_CALL_ID, callId)
                .putExtra(EXTRA_CALLER_NAME, callerName == null ? "" : callerName)
                .putExtra(EXTRA_CALLER_NUMBER, callerNumber == null ? "" : callerNumber)
                .putExtra(EXTRA_CALL_TYPE, callType == null ? "" : callType);
    }

    /** Closes the screen if it shows this call (any call when callId is empty). */
    static void finishFor(final String callId) {
        OneCxiBridge.runOnMain(new Runnable() {
            @Override
            public void run() {
                OneCxiIncomingCallActivity a = current.get();
                if (a != null && (OneCxiBridge.isBlank(callId) || callId.equals(a.callId))) {
                    a.finishScreen();
                }
            }
        });
    }

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        showOverLockScreen();
        buildLayout();
        handle(getIntent());
    }

    @Override
    protected void onNewIntent(Intent intent) {
        super.onNewIntent(intent);
        setIntent(intent);
        handle(intent);
    }

    private void handle(Intent intent) {
        String id = intent == null ? null : intent.getStringExtra(EXTRA_CALL_ID);
        if (OneCxiBridge.isBlank(id)) {
            finishScreen();
            return;
        }
        callId = id;
        if (ACTION_ACCEPT.equals(intent.getAction())) {
            // The notification's Accept button: answer straight away.
            accept();
            return;
        }
        String name = intent.getStringExtra(EXTRA_CALLER_NAME);
        String number = intent.getStringExtra(EXTRA_CALLER_NUMBER);
        String label = OneCxiNotifications.callTypeLabel(this, intent.getStringExtra(EXTRA_CALL_TYPE));
        nameView.setText(OneCxiBridge.isBlank(name) ? number : name);
        StringBuilder detail = new StringBuilder();
        if (!OneCxiBridge.isBlank(name) && !OneCxiBridge.isBlank(number)) {
            detail.append(number);
        }
        if (!label.isEmpty()) {
            if (detail.length() > 0) {
                detail.append(" · ");
            }
            detail.append(label);
        }
        detailView.setText(detail);
        current = new WeakReference<OneCxiIncomingCallActivity>(this);
        getWindow().getDecorView().removeCallbacks(autoClose);
        getWindow().getDecorView().postDelayed(autoClose, AUTO_CLOSE_MS);
    }

    /** Show over the keyguard and wake the screen: API 27 methods, window flags before. */
    @SuppressWarnings("deprecation")
    private void showOverLockScreen() {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O_MR1) {
            setShowWhenLocked(true);
            setTurnScreenOn(true);
        } else {
            getWindow().addFlags(WindowManager.LayoutParams.FLAG_SHOW_WHEN_LOCKED
                    | WindowManager.LayoutParams.FLAG_TURN_SCREEN_ON);
        }
        getWindow().addFlags(WindowManager.LayoutParams.FLAG_KEEP_SCREEN_ON);
    }

    /** After Accept the user goes to the app: ask to unlock (a secure keyguard asks for the PIN). */
    @SuppressWarnings("deprecation")
    private void dismissKeyguard() {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O) {
            KeyguardManager km = (KeyguardManager) getSystemService(Context.KEYGUARD_SERVICE);
            if (km != null && km.isKeyguardLocked()) {
                km.requestDismissKeyguard(this, null);
            }
        } else {
            getWindow().addFlags(WindowManager.LayoutParams.FLAG_DISMISS_KEYGUARD);
        }
    }

    private void accept() {
        dismissKeyguard();
        // Ours is a foreground activity now, so opening the app is allowed.
        OneCxiBridge.dispatchCallAction(this, callId, OneCxiBridge.CALL_ACCEPT, true);
        finishScreen();
    }

    private void decline() {
        OneCxiBridge.dispatchCallAction(this, callId, OneCxiBridge.CALL_DECLINE, false);
        finishScreen();
    }

    private void finishScreen() {
        if (current.get() == this) {
            current = new WeakReference<OneCxiIncomingCallActivity>(null);
        }
        Window w = getWindow();
        if (w != null) {
            w.getDecorView().removeCallbacks(autoClose);
        }
        if (!isFinishing()) {
            finish();
        }
    }

    @Override
    public void onBackPressed() {
        // Back silences nothing and answers nothing: the call keeps ringing in
        // its notification, as on the phone's own incoming-call screen.
        Log.i(TAG, "back on the incoming-call screen");
        moveTaskToBack(true);
    }

    @Override
    protected void onDestroy() {
        if (current.get() == this) {
            current = new WeakReference<OneCxiIncomingCallActivity>(null);
        }
        super.onDestroy();
    }

    private int dp(float v) {
        return Math.round(TypedValue.applyDimension(TypedValue.COMPLEX_UNIT_DIP, v, getResources().getDisplayMetrics()));
    }

    private void buildLayout() {
        LinearLayout root = new LinearLayout(this);
        root.setOrientation(LinearLayout.VERTICAL);
        root.setGravity(Gravity.CENTER_HORIZONTAL);
        root.setBackgroundColor(Color.rgb(0x12, 0x1a, 0x24));
        root.setPadding(dp(24), dp(72), dp(24), dp(48));

        TextView title = new TextView(this);
        title.setText(R.string.incoming_call);
        title.setTextColor(Color.rgb(0xb0, 0xbe, 0xc5));
        title.setTextSize(TypedValue.COMPLEX_UNIT_SP, 18);
        title.setGravity(Gravity.CENTER);
        root.addView(title);

        nameView = new TextView(this);
        nameView.setTextColor(Color.WHITE);
        nameView.setTextSize(TypedValue.COMPLEX_UNIT_SP, 34);
        nameView.setTypeface(Typeface.DEFAULT_BOLD);
        nameView.setGravity(Gravity.CENTER);
        nameView.setPadding(0, dp(24), 0, dp(8));
        root.addView(nameView);

        detailView = new TextView(this);
        detailView.setTextColor(Color.rgb(0xcf, 0xd8, 0xdc));
        detailView.setTextSize(TypedValue.COMPLEX_UNIT_SP, 18);
        detailView.setGravity(Gravity.CENTER);
        root.addView(detailView);

        View spacer = new View(this);
        root.addView(spacer, new LinearLayout.LayoutParams(1, 0, 1f));

        LinearLayout buttons = new LinearLayout(this);
        buttons.setOrientation(LinearLayout.HORIZONTAL);
        buttons.setGravity(Gravity.CENTER);
        Button decline = roundButton(R.string.decline, Color.rgb(0xd3, 0x2f, 0x2f));
        decline.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                decline();
            }
        });
        Button accept = roundButton(R.string.accept, Color.rgb(0x2e, 0x7d, 0x32));
        accept.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                accept();
            }
        });
        LinearLayout.LayoutParams lp = new LinearLayout.LayoutParams(0, dp(64), 1f);
        lp.setMargins(dp(16), 0, dp(16), 0);
        buttons.addView(decline, lp);
        buttons.addView(accept, new LinearLayout.LayoutParams(lp));
        root.addView(buttons, new LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT,
                LinearLayout.LayoutParams.WRAP_CONTENT));

        setContentView(root);
    }

    private Button roundButton(int text, int color) {
        Button b = new Button(this);
        b.setText(text);
        b.setTextColor(Color.WHITE);
        b.setTextSize(TypedValue.COMPLEX_UNIT_SP, 18);
        b.setAllCaps(false);
        GradientDrawable bg = new GradientDrawable();
        bg.setColor(color);
        bg.setCornerRadius(dp(32));
        b.setBackground(bg);
        return b;
    }
}
