package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRender(t *testing.T) {
	t.Parallel()
	got, err := render("m|m|m/a fmt\nm|m/b|m/a m/a/c net/http\nm|m/a|\n")
	require.NoError(t, err)
	assert.Equal(t, ".: a\na:\nb: a a/c\n", got, "sorted, module-relative, standard library left out")
	_, err = render("garbage\n")
	assert.Error(t, err)
}

func TestBlock(t *testing.T) {
	t.Parallel()
	body, _, _, err := block("x\n<!-- archgraph -->\n```\na: b\n```\n<!-- /archgraph -->\ny")
	require.NoError(t, err)
	assert.Equal(t, "a: b\n", body)
	_, _, _, err = block("no markers")
	assert.Error(t, err)
}

// The README's architecture section shows the import graph go list sees.
func TestREADMEMatchesGoList(t *testing.T) {
	t.Parallel()
	require.NoError(t, run(t.Context(), "../..", "../../README.md", "", nil))
}
