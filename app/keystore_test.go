package app

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeKeychain is an OS keychain in memory: secure, and able to fail or
// hang like a broken Secret Service.
type fakeKeychain struct {
	mu      sync.Mutex
	secrets map[string]string
	err     error         // returned by every call when set
	hang    chan struct{} // Get blocks until closed when set
}

func newFakeKeychain() *fakeKeychain { return &fakeKeychain{secrets: map[string]string{}} }

func (k *fakeKeychain) Get(user string) (string, error) {
	if k.hang != nil {
		<-k.hang
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return "", k.err
	}
	s, ok := k.secrets[user]
	if !ok {
		return "", errNoSecret
	}
	return s, nil
}

func (k *fakeKeychain) Set(user, secret string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return k.err
	}
	k.secrets[user] = secret
	return nil
}

func (k *fakeKeychain) Delete(user string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.secrets, user)
	return k.err
}

func (k *fakeKeychain) Secure() bool { return true }

func (k *fakeKeychain) get(user string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.secrets[user]
}

func TestFileSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "apikeys.json")
	f := newFileSecrets(path)
	assert.False(t, f.Secure())

	_, err := f.Get("acme@https://a")
	require.ErrorIs(t, err, errNoSecret, "an empty store has nothing")

	require.NoError(t, f.Set("acme@https://a", "key-one"))
	require.NoError(t, f.Set("beta@https://b", "key-two"))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "only the user may read the keys")

	again := newFileSecrets(path) // as after a restart
	got, err := again.Get("acme@https://a")
	require.NoError(t, err)
	assert.Equal(t, "key-one", got)

	require.NoError(t, again.Delete("acme@https://a"))
	require.NoError(t, again.Delete("acme@https://a"), "deleting twice is fine")
	_, err = f.Get("acme@https://a")
	require.ErrorIs(t, err, errNoSecret)
	got, err = f.Get("beta@https://b")
	require.NoError(t, err)
	assert.Equal(t, "key-two", got)

	require.NoError(t, os.WriteFile(path, []byte("{not json"), 0o600))
	_, err = f.Get("beta@https://b")
	require.Error(t, err)
	assert.NotErrorIs(t, err, errNoSecret, "a damaged file is not an empty one")
}

func TestChooseSecretStore(t *testing.T) {
	fallback := newFileSecrets(filepath.Join(t.TempDir(), "k.json"))
	hung := newFakeKeychain()
	hung.hang = make(chan struct{})
	t.Cleanup(func() { close(hung.hang) })
	broken := newFakeKeychain()
	broken.err = errors.New("org.freedesktop.secrets was not provided by any .service files")
	withEntry := newFakeKeychain()
	withEntry.secrets["onecxi-phone-probe"] = "x"

	for _, tc := range []struct {
		name     string
		kc       *fakeKeychain
		wantKC   bool
		whyMatch string
	}{
		{"a keychain without the entry", newFakeKeychain(), true, ""},
		{"a keychain with the entry", withEntry, true, ""},
		{"no Secret Service", broken, false, "org.freedesktop.secrets"},
		{"a keychain that never answers", hung, false, "did not answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := chooseSecretStore(tc.kc, fallback, 100*time.Millisecond)
			if tc.wantKC {
				assert.NoError(t, why)
				assert.Same(t, tc.kc, got)
				return
			}
			require.Error(t, why)
			assert.Contains(t, why.Error(), tc.whyMatch)
			assert.Same(t, fallback, got)
		})
	}
}
