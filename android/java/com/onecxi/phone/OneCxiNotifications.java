package com.onecxi.phone;

import android.app.Notification;
import android.app.NotificationChannel;
import android.app.NotificationManager;
import android.app.PendingIntent;
import android.app.Person;
import android.content.Context;
import android.content.Intent;
import android.graphics.Color;
import android.media.AudioAttributes;
import android.media.RingtoneManager;
import android.net.Uri;
import android.os.Build;
import android.util.Log;

/**
 * The call notifications: the ringing one (incoming) and the ongoing-call one
 * of the foreground service, with their channels.
 */
final class OneCxiNotifications {
    private static final String TAG = "OneCxiNotifications";

    /**
     * Channel ids carry a version: a channel's sound and importance cannot be
     * changed once created, so changing them means a new id.
     */
    static final String CHANNEL_INCOMING = "onecxi_incoming_v1";
    static final String CHANNEL_ONGOING = "onecxi_ongoing_v1";

    /** One ringing notification per call: tag = callId, this id. */
    static final int ID_INCOMING = 0x0C01;
    /** The foreground service's notification. */
    static final int ID_ONGOING = 0x0C02;

    /** How long a ringing notification stays if nobody dismisses it (API 26+). */
    static final long RING_TIMEOUT_MS = 60L * 1000L;
    private static final long[] VIBRATION = {0, 800, 800, 800, 800};

    private OneCxiNotifications() {
    }

    static NotificationManager manager(Context ctx) {
        return (NotificationManager) ctx.getSystemService(Context.NOTIFICATION_SERVICE);
    }

    /** Creates the channels (API 26+); cheap to repeat. */
    static void ensureChannels(Context ctx) {
        if (Build.VERSION.SDK_INT < Build.VERSION_CODES.O) {
            return;
        }
        NotificationManager nm = manager(ctx);
        NotificationChannel incoming = new NotificationChannel(CHANNEL_INCOMING,
                ctx.getString(R.string.channel_incoming), NotificationManager.IMPORTANCE_HIGH);
        incoming.setDescription(ctx.getString(R.string.channel_incoming_description));
        incoming.setSound(ringtone(), ringtoneAttributes());
        incoming.enableVibration(true);
        incoming.setVibrationPattern(VIBRATION);
        incoming.enableLights(true);
        incoming.setLightColor(Color.GREEN);
        incoming.setLockscreenVisibility(Notification.VISIBILITY_PUBLIC);
        nm.createNotificationChannel(incoming);

        NotificationChannel ongoing = new NotificationChannel(CHANNEL_ONGOING,
                ctx.getString(R.string.channel_ongoing), NotificationManager.IMPORTANCE_LOW);
        ongoing.setDescription(ctx.getString(R.string.channel_ongoing_description));
        ongoing.setSound(null, null);
        ongoing.enableVibration(false);
        ongoing.setShowBadge(false);
        ongoing.setLockscreenVisibility(Notification.VISIBILITY_PUBLIC);
        nm.createNotificationChannel(ongoing);
    }

    private static Uri ringtone() {
        return RingtoneManager.getDefaultUri(RingtoneManager.TYPE_RINGTONE);
    }

    private static AudioAttributes ringtoneAttributes() {
        return new AudioAttributes.Builder()
                .setUsage(AudioAttributes.USAGE_NOTIFICATION_RINGTONE)
                .setContentType(AudioAttributes.CONTENT_TYPE_SONIFICATION)
                .build();
    }

    /** Notification.Builder on the channel (API 26+) or with priority/sound (before). */
    @SuppressWarnings("deprecation")
    private static Notification.Builder builder(Context ctx, String channel, boolean ringing) {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O) {
            return new Notification.Builder(ctx, channel);
        }
        Notification.Builder b = new Notification.Builder(ctx);
        if (ringing) {
            b.setPriority(Notification.PRIORITY_MAX);
            b.setSound(ringtone(), ringtoneAttributes());
            b.setVibrate(VIBRATION);
            b.setLights(Color.GREEN, 500, 500);
        } else {
            b.setPriority(Notification.PRIORITY_LOW);
        }
        return b;
    }

    /**
     * PendingIntent flags: IMMUTABLE (API 23), required from API 31 and right
     * for intents nobody else should fill in.
     */
    static final int PI_FLAGS = PendingIntent.FLAG_UPDATE_CURRENT | PendingIntent.FLAG_IMMUTABLE;

    /** A distinct request code per call and purpose, so PendingIntents do not overwrite each other. */
    static int requestCode(String callId, int purpose) {
        return (callId == null ? 0 : callId.hashCode() * 8) + purpose;
    }

    static String showIncoming(Context ctx, String callId, String callerName, String callerNumber,
            String callType) {
        try {
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU
                    && !OneCxiBridge.granted(ctx, OneCxiBridge.PERMISSION_POST_NOTIFICATIONS)) {
                return OneCxiBridge.error(OneCxiBridge.KIND_PERMISSION, "POST_NOTIFICATIONS not granted");
            }
            NotificationManager nm = manager(ctx);
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.N && !nm.areNotificationsEnabled()) {
                return OneCxiBridge.error(OneCxiBridge.KIND_NOT_ALLOWED, "notifications are turned off for the app");
            }
            ensureChannels(ctx);
            nm.notify(callId, ID_INCOMING, incoming(ctx, callId, callerName, callerNumber, callType));
            if (!canUseFullScreenIntent(ctx)) {
                // Still posted, with the full-screen intent attached: Android 14
                // shows it as a heads-up notification instead of the call screen.
                Log.w(TAG, "full-screen intents are not allowed; the call shows as a heads-up notification");
            }
            return "";
        } catch (SecurityException e) {
            return OneCxiBridge.error(OneCxiBridge.KIND_PERMISSION, e);
        } catch (RuntimeException e) {
            return OneCxiBridge.error(OneCxiBridge.KIND_FAILED, e);
        }
    }

    /**
     * Whether a full-screen intent may open the call screen. Android 14 only
     * grants USE_FULL_SCREEN_INTENT to calling and alarm apps (Play declares
     * it) and the user can revoke it in Settings (docs/android.md).
     */
    static boolean canUseFullScreenIntent(Context ctx) {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.UPSIDE_DOWN_CAKE) {
            return manager(ctx).canUseFullScreenIntent();
        }
        return true;
    }

    static Notification incoming(Context ctx, String callId, String callerName, String callerNumber,
            String callType) {
        String who = OneCxiBridge.isBlank(callerName) ? callerNumber : callerName;
        String what = ctx.getString(R.string.incoming_call);
        String label = callTypeLabel(ctx, callType);
        String text = label.isEmpty() ? what : what + " · " + label;
        if (!OneCxiBridge.isBlank(callerName) && !OneCxiBridge.isBlank(callerNumber)) {
            text = text + " · " + callerNumber;
        }

        Intent screen = OneCxiIncomingCallActivity.intent(ctx, OneCxiIncomingCallActivity.ACTION_SHOW,
                callId, callerName, callerNumber, callType);
        PendingIntent fullScreen = PendingIntent.getActivity(ctx, requestCode(callId, 1), screen, PI_FLAGS);
        // Accept opens an activity directly: since Android 12 an activity may not
        // be started from a receiver a notification started ("trampoline").
        Intent acceptIntent = OneCxiIncomingCallActivity.intent(ctx, OneCxiIncomingCallActivity.ACTION_ACCEPT,
                callId, callerName, callerNumber, callType);
        PendingIntent accept = PendingIntent.getActivity(ctx, requestCode(callId, 2), acceptIntent, PI_FLAGS);
        PendingIntent decline = PendingIntent.getBroadcast(ctx, requestCode(callId, 3),
                OneCxiCallActionReceiver.intent(ctx, OneCxiCallActionReceiver.ACTION_DECLINE, callId), PI_FLAGS);

        Notification.Builder b = builder(ctx, CHANNEL_INCOMING, true)
                .setSmallIcon(R.drawable.ic_stat_call)
                .setContentTitle(who)
                .setContentText(text)
                .setCategory(Notification.CATEGORY_CALL)
                .setVisibility(Notification.VISIBILITY_PUBLIC)
                .setOngoing(true)
                .setAutoCancel(false)
                .setShowWhen(false)
                .setContentIntent(fullScreen)
                .setFullScreenIntent(fullScreen, true);
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O) {
            b.setTimeoutAfter(RING_TIMEOUT_MS);
        }
        boolean styled = false;
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            // CallStyle: the system's call layout, ranked first, not dismissible.
            try {
                Person caller = new Person.Builder().setName(who).setImportant(true).build();
                b.setStyle(Notification.CallStyle.forIncomingCall(caller, decline, accept));
                styled = true;
            } catch (RuntimeException e) {
                Log.w(TAG, "CallStyle refused; plain actions instead", e);
            }
        }
        if (!styled) {
            b.addAction(new Notification.Action.Builder(null, ctx.getString(R.string.decline), decline).build());
            b.addAction(new Notification.Action.Builder(null, ctx.getString(R.string.accept), accept).build());
        }
        Notification n = b.build();
        // Ring until answered, like a phone, rather than once.
        n.flags |= Notification.FLAG_INSISTENT;
        return n;
    }

    static Notification ongoing(Context ctx, String callId, String remote, long since) {
        PendingIntent open = PendingIntent.getActivity(ctx, requestCode(callId, 4), launchIntent(ctx), PI_FLAGS);
        PendingIntent hangup = PendingIntent.getBroadcast(ctx, requestCode(callId, 5),
                OneCxiCallActionReceiver.intent(ctx, OneCxiCallActionReceiver.ACTION_HANGUP, callId), PI_FLAGS);
        String who = OneCxiBridge.isBlank(remote) ? ctx.getString(R.string.app_name) : remote;
        Notification.Builder b = builder(ctx, CHANNEL_ONGOING, false)
                .setSmallIcon(R.drawable.ic_stat_call)
                .setContentTitle(who)
                .setContentText(ctx.getString(R.string.ongoing_call))
                .setCategory(Notification.CATEGORY_CALL)
                .setVisibility(Notification.VISIBILITY_PUBLIC)
                .setOngoing(true)
                .setOnlyAlertOnce(true)
                .setWhen(since)
                .setShowWhen(true)
                .setUsesChronometer(true)
                .setContentIntent(open);
        boolean styled = false;
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            try {
                Person other = new Person.Builder().setName(who).setImportant(true).build();
                b.setStyle(Notification.CallStyle.forOngoingCall(other, hangup));
                styled = true;
            } catch (RuntimeException e) {
                Log.w(TAG, "CallStyle refused; plain action instead", e);
            }
        }
        if (!styled) {
            b.addAction(new Notification.Action.Builder(null, ctx.getString(R.string.hang_up), hangup).build());
        }
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            // Show it at once; Android 12 may otherwise delay an FGS notification by 10 s.
            b.setForegroundServiceBehavior(Notification.FOREGROUND_SERVICE_IMMEDIATE);
        }
        return b.build();
    }

    static void cancelIncoming(Context ctx, String callId) {
        try {
            manager(ctx).cancel(callId, ID_INCOMING);
        } catch (RuntimeException e) {
            Log.w(TAG, "cannot cancel the incoming-call notification", e);
        }
    }

    static Intent launchIntent(Context ctx) {
        Intent launch = ctx.getPackageManager().getLaunchIntentForPackage(ctx.getPackageName());
        if (launch == null) {
            launch = new Intent().setClassName(ctx.getPackageName(), OneCxiBridge.GO_ACTIVITY);
        }
        launch.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK | Intent.FLAG_ACTIVITY_RESET_TASK_IF_NEEDED);
        return launch;
    }

    /** The guide's call types (push "callType") in words, or "". */
    static String callTypeLabel(Context ctx, String callType) {
        if (callType == null) {
            return "";
        }
        switch (callType.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "inbound":
                return ctx.getString(R.string.call_type_inbound);
            case "outbound":
                return ctx.getString(R.string.call_type_outbound);
            case "apptoapp":
            case "app_to_app":
                return ctx.getString(R.string.call_type_app);
            default:
                return "";
        }
    }
}
