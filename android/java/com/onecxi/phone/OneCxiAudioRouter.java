package com.onecxi.phone;

import android.content.Context;
import android.media.AudioDeviceInfo;
import android.media.AudioManager;
import android.os.Build;
import android.os.PowerManager;
import android.util.Log;

import java.util.List;

/**
 * Where call audio goes: earpiece (or a wired headset when one is plugged in),
 * loudspeaker or Bluetooth. The audio mode is MODE_IN_COMMUNICATION, which
 * selects the voice-call paths (echo canceller, earpiece, SCO). Android 12
 * (API 31) routes with setCommunicationDevice; before it, with
 * setSpeakerphoneOn and startBluetoothSco, which Android 12 deprecated.
 */
final class OneCxiAudioRouter {
    private static final String TAG = "OneCxiAudioRouter";

    static final String EARPIECE = "earpiece";
    static final String SPEAKER = "speaker";
    static final String BLUETOOTH = "bluetooth";

    private static final Object LOCK = new Object();
    /** Turns the screen off while the phone is at the ear (earpiece route only). */
    private static PowerManager.WakeLock proximity;

    private OneCxiAudioRouter() {
    }

    static String setRoute(Context ctx, String route) {
        if (!EARPIECE.equals(route) && !SPEAKER.equals(route) && !BLUETOOTH.equals(route)) {
            return OneCxiBridge.error(OneCxiBridge.KIND_INVALID, "route must be earpiece, speaker or bluetooth");
        }
        AudioManager am = (AudioManager) ctx.getSystemService(Context.AUDIO_SERVICE);
        if (am == null) {
            return OneCxiBridge.error(OneCxiBridge.KIND_UNSUPPORTED, "no audio service");
        }
        try {
            if (am.getMode() != AudioManager.MODE_IN_COMMUNICATION) {
                am.setMode(AudioManager.MODE_IN_COMMUNICATION);
            }
            String err = Build.VERSION.SDK_INT >= Build.VERSION_CODES.S
                    ? routeWithCommunicationDevice(am, route)
                    : routeLegacy(am, route);
            if (err.isEmpty()) {
                setProximity(ctx, EARPIECE.equals(route) && !wiredHeadsetConnected(am));
            }
            return err;
        } catch (SecurityException e) {
            return OneCxiBridge.error(OneCxiBridge.KIND_PERMISSION, e);
        } catch (RuntimeException e) {
            return OneCxiBridge.error(OneCxiBridge.KIND_FAILED, e);
        }
    }

    /** API 31+: pick the device among those Android offers for calls. */
    private static String routeWithCommunicationDevice(AudioManager am, String route) {
        List<AudioDeviceInfo> devices = am.getAvailableCommunicationDevices();
        AudioDeviceInfo chosen = null;
        if (SPEAKER.equals(route)) {
            chosen = find(devices, AudioDeviceInfo.TYPE_BUILTIN_SPEAKER);
        } else if (BLUETOOTH.equals(route)) {
            chosen = find(devices, AudioDeviceInfo.TYPE_BLUETOOTH_SCO, AudioDeviceInfo.TYPE_BLE_HEADSET,
                    AudioDeviceInfo.TYPE_BLE_SPEAKER, AudioDeviceInfo.TYPE_HEARING_AID);
            if (chosen == null) {
                return OneCxiBridge.error(OneCxiBridge.KIND_UNSUPPORTED, "no Bluetooth audio device connected");
            }
        } else {
            // "Not the loudspeaker": a plugged-in headset wins over the earpiece,
            // as on the phone's own dialer.
            chosen = find(devices, AudioDeviceInfo.TYPE_WIRED_HEADSET, AudioDeviceInfo.TYPE_USB_HEADSET,
                    AudioDeviceInfo.TYPE_WIRED_HEADPHONES, AudioDeviceInfo.TYPE_BUILTIN_EARPIECE);
            if (chosen == null) {
                return OneCxiBridge.error(OneCxiBridge.KIND_UNSUPPORTED, "this device has no earpiece");
            }
        }
        if (chosen == null) {
            return OneCxiBridge.error(OneCxiBridge.KIND_UNSUPPORTED, "no " + route + " among the call devices");
        }
        AudioDeviceInfo current = am.getCommunicationDevice();
        if (current != null && current.getId() == chosen.getId()) {
            return "";
        }
        if (!am.setCommunicationDevice(chosen)) {
            return OneCxiBridge.error(OneCxiBridge.KIND_FAILED, "setCommunicationDevice refused " + route);
        }
        return "";
    }

    private static AudioDeviceInfo find(List<AudioDeviceInfo> devices, int... types) {
        if (devices == null) {
            return null;
        }
        // In the order of types: the first type present wins.
        for (int type : types) {
            for (AudioDeviceInfo d : devices) {
                if (d.getType() == type) {
                    return d;
                }
            }
        }
        return null;
    }

    /** Before API 31: speakerphone flag and Bluetooth SCO. */
    @SuppressWarnings("deprecation")
    private static String routeLegacy(AudioManager am, String route) {
        if (BLUETOOTH.equals(route)) {
            if (!am.isBluetoothScoAvailableOffCall() || !hasOutput(am, AudioDeviceInfo.TYPE_BLUETOOTH_SCO)) {
                return OneCxiBridge.error(OneCxiBridge.KIND_UNSUPPORTED, "no Bluetooth headset connected");
            }
            am.setSpeakerphoneOn(false);
            // SCO comes up asynchronously (ACTION_SCO_AUDIO_STATE_UPDATED);
            // audio follows once it is connected.
            am.startBluetoothSco();
            am.setBluetoothScoOn(true);
            return "";
        }
        if (am.isBluetoothScoOn()) {
            am.setBluetoothScoOn(false);
            am.stopBluetoothSco();
        }
        if (EARPIECE.equals(route) && !hasOutput(am, AudioDeviceInfo.TYPE_BUILTIN_EARPIECE)
                && !wiredHeadsetConnected(am)) {
            return OneCxiBridge.error(OneCxiBridge.KIND_UNSUPPORTED, "this device has no earpiece");
        }
        am.setSpeakerphoneOn(SPEAKER.equals(route));
        return "";
    }

    private static boolean hasOutput(AudioManager am, int type) {
        for (AudioDeviceInfo d : am.getDevices(AudioManager.GET_DEVICES_OUTPUTS)) {
            if (d.getType() == type) {
                return true;
            }
        }
        return false;
    }

    private static boolean wiredHeadsetConnected(AudioManager am) {
        return hasOutput(am, AudioDeviceInfo.TYPE_WIRED_HEADSET)
                || hasOutput(am, AudioDeviceInfo.TYPE_WIRED_HEADPHONES)
                || (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O && hasOutput(am, AudioDeviceInfo.TYPE_USB_HEADSET));
    }

    /** After the call: normal mode, default routing, no SCO, no proximity lock. */
    @SuppressWarnings("deprecation")
    static void reset(Context ctx) {
        AudioManager am = (AudioManager) ctx.getSystemService(Context.AUDIO_SERVICE);
        setProximity(ctx, false);
        if (am == null) {
            return;
        }
        try {
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
                am.clearCommunicationDevice();
            } else {
                if (am.isBluetoothScoOn()) {
                    am.setBluetoothScoOn(false);
                    am.stopBluetoothSco();
                }
                am.setSpeakerphoneOn(false);
            }
            am.setMode(AudioManager.MODE_NORMAL);
        } catch (RuntimeException e) {
            Log.w(TAG, "cannot reset the audio mode", e);
        }
    }

    private static void setProximity(Context ctx, boolean on) {
        synchronized (LOCK) {
            if (on) {
                if (proximity == null) {
                    PowerManager pm = (PowerManager) ctx.getApplicationContext().getSystemService(Context.POWER_SERVICE);
                    if (pm == null || !pm.isWakeLockLevelSupported(PowerManager.PROXIMITY_SCREEN_OFF_WAKE_LOCK)) {
                        return;
                    }
                    proximity = pm.newWakeLock(PowerManager.PROXIMITY_SCREEN_OFF_WAKE_LOCK, "OneCxiPhone:proximity");
                    proximity.setReferenceCounted(false);
                }
                if (!proximity.isHeld()) {
                    proximity.acquire();
                }
            } else if (proximity != null) {
                if (proximity.isHeld()) {
                    // Wait for the phone to leave the ear before the screen comes back.
                    proximity.release(PowerManager.RELEASE_FLAG_WAIT_FOR_NO_PROXIMITY);
                }
                proximity = null;
            }
        }
    }
}
