//go:build android || ios || (darwin && !cgo)

package platform

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Without the native glue links cannot arrive, and the app is told so.
func TestListenOpenURLUnsupported(t *testing.T) {
	assert.ErrorIs(t, ListenOpenURL(), ErrUnsupported)
}
