package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/onecxi/phone/callcore"
	"github.com/zalando/go-keyring"
)

// errNoSecret is returned by a secretStore's Get when it holds no secret for
// that user.
var errNoSecret = errors.New("no API key saved")

// secretStore keeps API keys, one per account and server ("user").
type secretStore interface {
	Get(user string) (string, error) // errNoSecret when there is none
	Set(user, secret string) error
	Delete(user string) error
	// Secure reports whether the OS protects the secrets (a keychain), as
	// opposed to a file in the app's storage.
	Secure() bool
}

// keychainService names OneCxi Phone's entries in the OS keychain.
const keychainService = AppID

// keychain is the OS keychain through go-keyring: the Secret Service
// (GNOME Keyring, KWallet) on Linux, the Keychain on macOS, the Credential
// Manager on Windows.
type keychain struct{}

func (keychain) Get(user string) (string, error) {
	s, err := keyring.Get(keychainService, user)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", errNoSecret
	}
	if err != nil {
		return "", fmt.Errorf("reading the API key from the keychain: %w", err)
	}
	return s, nil
}

func (keychain) Set(user, secret string) error {
	if err := keyring.Set(keychainService, user, secret); err != nil {
		return fmt.Errorf("saving the API key in the keychain: %w", err)
	}
	return nil
}

func (keychain) Delete(user string) error {
	if err := keyring.Delete(keychainService, user); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("removing the API key from the keychain: %w", err)
	}
	return nil
}

func (keychain) Secure() bool { return true }

// fileSecrets is the fallback where there is no keychain (no Secret Service
// daemon on a Linux box, a headless session): a JSON file in the app's
// storage, readable only by the user. It is the SDK's FileStore (0600,
// written atomically); the UI warns while it is used.
type fileSecrets struct{ st *callcore.FileStore }

func newFileSecrets(path string) *fileSecrets { return &fileSecrets{st: callcore.NewFileStore(path)} }

func (f *fileSecrets) Get(user string) (string, error) {
	s, ok, err := f.st.Load(user)
	if err != nil {
		return "", fmt.Errorf("reading the API key file: %w", err)
	}
	if !ok {
		return "", errNoSecret
	}
	return s, nil
}

func (f *fileSecrets) Set(user, secret string) error {
	if err := f.st.Save(user, secret); err != nil {
		return fmt.Errorf("saving the API key file: %w", err)
	}
	return nil
}

func (f *fileSecrets) Delete(user string) error {
	if err := f.st.Delete(user); err != nil {
		return fmt.Errorf("removing from the API key file: %w", err)
	}
	return nil
}

func (*fileSecrets) Secure() bool { return false }

// keychainProbeTimeout bounds the keychain check at start-up: a D-Bus
// session without a Secret Service can take a while to say so.
const keychainProbeTimeout = 3 * time.Second

// chooseSecretStore returns kc when it answers within wait (a missing entry
// is an answer), else fallback; the error says why the keychain was passed
// over.
func chooseSecretStore(kc, fallback secretStore, wait time.Duration) (secretStore, error) {
	res := make(chan error, 1)
	go func() {
		_, err := kc.Get("onecxi-phone-probe")
		res <- err
	}()
	select {
	case err := <-res:
		if err == nil || errors.Is(err, errNoSecret) {
			return kc, nil
		}
		return fallback, err
	case <-time.After(wait):
		return fallback, fmt.Errorf("the keychain did not answer within %v", wait)
	}
}

// secretUser is the keychain entry name of an account on a server.
func secretUser(account, server string) string { return account + "@" + server }
