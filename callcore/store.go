package callcore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Store persists the little state the SDK needs across restarts (the
// guide's kill-state recovery): the registered number, a pending incoming
// call, an accept action not yet acted on, and the account and server name.
// The API key is never stored. Implementations must be safe for concurrent
// use; keys and values are short strings.
type Store interface {
	// Load returns the value of key; ok is false when it is not set.
	Load(key string) (value string, ok bool, err error)
	// Save sets key to value.
	Save(key, value string) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(key string) error
}

// Keys the SDK uses in its Store.
const (
	storeKeyRegisteredNumber = "registeredNumber"
	storeKeyPendingCall      = "pendingIncomingCall"
	storeKeyAcceptAction     = "callAcceptAction"
	storeKeyAccountName      = "accountName"
	storeKeyServerName       = "serverName"
)

// MemoryStore is a Store that keeps values in memory: for tests and for apps
// that need no kill-state recovery.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: make(map[string]string)} }

// Load implements Store.
func (s *MemoryStore) Load(key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok, nil
}

// Save implements Store.
func (s *MemoryStore) Save(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// FileStore is a Store in one JSON object file. Every Save rewrites the file
// through a temporary file and a rename, so a crash leaves either the old or
// the new content, never half of it; the file is readable by its owner only
// (0600) because it holds phone numbers.
type FileStore struct {
	path string
	mu   sync.Mutex
}

// NewFileStore returns a FileStore at path. The file and its directory are
// created on the first Save.
func NewFileStore(path string) *FileStore { return &FileStore{path: path} }

// Path returns the file's path.
func (s *FileStore) Path() string { return s.path }

func (s *FileStore) read() (map[string]string, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("callcore: reading store: %w", err)
	}
	m := map[string]string{}
	if len(b) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("callcore: store %s is corrupt: %w", s.path, err)
	}
	return m, nil
}

func (s *FileStore) write(m map[string]string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("callcore: encoding store: %w", err)
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("callcore: creating store directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("callcore: writing store: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("callcore: writing store: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("callcore: writing store: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("callcore: writing store: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("callcore: writing store: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("callcore: writing store: %w", err)
	}
	return nil
}

// Load implements Store.
func (s *FileStore) Load(key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.read()
	if err != nil {
		return "", false, err
	}
	v, ok := m[key]
	return v, ok, nil
}

// Save implements Store.
func (s *FileStore) Save(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.read()
	if err != nil {
		// A corrupt file must not block the app forever: start afresh.
		m = map[string]string{}
	}
	m[key] = value
	return s.write(m)
}

// Delete implements Store.
func (s *FileStore) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.read()
	if err != nil {
		m = map[string]string{}
	}
	if _, ok := m[key]; !ok && err == nil {
		return nil
	}
	delete(m, key)
	return s.write(m)
}
