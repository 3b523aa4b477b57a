package assets

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIcon(t *testing.T) {
	require.NotNil(t, Icon)
	assert.Equal(t, "icon.png", Icon.Name())
	img, err := png.Decode(bytes.NewReader(Icon.Content()))
	require.NoError(t, err)
	assert.Equal(t, 512, img.Bounds().Dx())
	assert.Equal(t, 512, img.Bounds().Dy())
	_, _, _, a := img.At(0, 0).RGBA()
	assert.Zero(t, a, "the rounded corners are transparent")
	_, _, _, a = img.At(256, 256).RGBA()
	assert.NotZero(t, a)
}
