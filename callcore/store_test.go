package callcore

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStores(t *testing.T) {
	stores := map[string]func(t *testing.T) Store{
		"memory": func(t *testing.T) Store { return NewMemoryStore() },
		"file":   func(t *testing.T) Store { return NewFileStore(filepath.Join(t.TempDir(), "sub", "sdk.json")) },
	}
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			_, ok, err := s.Load("k")
			require.NoError(t, err)
			assert.False(t, ok)

			require.NoError(t, s.Save("k", "v1"))
			require.NoError(t, s.Save("other", "x"))
			require.NoError(t, s.Save("k", "v2"))
			v, ok, err := s.Load("k")
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, "v2", v)

			require.NoError(t, s.Delete("k"))
			require.NoError(t, s.Delete("never-set"))
			_, ok, _ = s.Load("k")
			assert.False(t, ok)
			v, _, _ = s.Load("other")
			assert.Equal(t, "x", v)

			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					assert.NoError(t, s.Save("c", string(rune('a'+i))))
					_, _, err := s.Load("c")
					assert.NoError(t, err)
				}()
			}
			wg.Wait()
		})
	}
}

func TestFileStorePersistsAtomicallyAndPrivately(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onecxi", "sdk.json")
	a := NewFileStore(path)
	require.NoError(t, a.Save(storeKeyRegisteredNumber, "9876543210"))
	require.NoError(t, a.Save(storeKeyAccountName, "acme"))

	b := NewFileStore(path) // a later process
	v, ok, err := b.Load(storeKeyRegisteredNumber)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "9876543210", v)
	assert.Equal(t, path, b.Path())

	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files left behind")

	// A corrupt file reads as an error but does not block new saves.
	require.NoError(t, os.WriteFile(path, []byte("{not json"), 0o600))
	_, _, err = b.Load("x")
	assert.Error(t, err)
	require.NoError(t, b.Save("x", "1"))
	v, _, err = b.Load("x")
	require.NoError(t, err)
	assert.Equal(t, "1", v)
}

func TestSDKNeverStoresTheAPIKey(t *testing.T) {
	// Checked with a fake server in sdk_test; here the store keys are all
	// that the SDK writes.
	for _, k := range []string{storeKeyRegisteredNumber, storeKeyPendingCall, storeKeyAcceptAction,
		storeKeyAccountName, storeKeyServerName} {
		assert.NotContains(t, k, "apiKey")
	}
}
