package screens

import (
	"testing"

	"fyne.io/fyne/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The digits are drawn at keyTextSize without a theme override: Fyne parses
// its fonts once more for every override scope.
func TestKeypadDigits(t *testing.T) {
	k := NewKeypad(func(string) {})
	grid := k.Content().(*fyne.Container) // a grid, not a theme override
	require.Len(t, grid.Objects, 12)
	for i, d := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"} {
		key := grid.Objects[i].(*fyne.Container)
		assert.Same(t, k.Keys[d], key.Objects[0], d)
		text := key.Objects[1].(*keyText).text
		assert.Equal(t, d, text.Text)
		assert.Equal(t, float32(keyTextSize), text.TextSize)
		assert.True(t, text.TextStyle.Bold, "bold, as a button's label")
	}
}
