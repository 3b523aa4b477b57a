package goid

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIDIsStablePerGoroutineAndDistinct(t *testing.T) {
	a := ID()
	assert.NotZero(t, a)
	assert.Equal(t, a, ID())
	other := make(chan uint64)
	go func() { other <- ID() }()
	b := <-other
	assert.NotZero(t, b)
	assert.NotEqual(t, a, b)
}
