package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

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
// storage, readable only by the user (0600). The UI warns while it is used.
type fileSecrets struct {
	path string
	mu   sync.Mutex
}

func (f *fileSecrets) load() (map[string]string, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the API key file: %w", err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("reading the API key file %s: %w", f.path, err)
	}
	return m, nil
}

func (f *fileSecrets) save(m map[string]string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("saving the API key file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("saving the API key file: %w", err)
	}
	// Write and rename, so a crash never leaves half a file.
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("saving the API key file: %w", err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return fmt.Errorf("saving the API key file: %w", err)
	}
	return nil
}

func (f *fileSecrets) Get(user string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return "", err
	}
	s, ok := m[user]
	if !ok {
		return "", errNoSecret
	}
	return s, nil
}

func (f *fileSecrets) Set(user, secret string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return err
	}
	m[user] = secret
	return f.save(m)
}

func (f *fileSecrets) Delete(user string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return err
	}
	if _, ok := m[user]; !ok {
		return nil
	}
	delete(m, user)
	return f.save(m)
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
