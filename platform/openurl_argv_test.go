//go:build !darwin && !android

package platform

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Links arrive as arguments here: there is nothing to listen to, and that
// is not an error.
func TestListenOpenURLNeedsNothing(t *testing.T) {
	assert.NoError(t, ListenOpenURL())
	assert.NoError(t, ListenOpenURL(), "a second call is harmless")
}
