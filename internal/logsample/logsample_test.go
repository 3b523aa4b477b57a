package logsample_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/onecxi/phone/internal/logsample"
	"github.com/onecxi/phone/internal/testlog"
)

func TestFirstLineThenOnePerPeriodWithTheCountLeftOut(t *testing.T) {
	var buf testlog.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	s := logsample.New(50 * time.Millisecond)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { s.Warn(l, "trouble", "k", "v") })
	}
	wg.Wait()
	assert.Equal(t, 1, strings.Count(buf.String(), "trouble"), "one line for the burst")
	assert.NotContains(t, buf.String(), "unlogged")
	time.Sleep(60 * time.Millisecond) // the period must pass: that is what is tested
	s.Warn(l, "trouble")
	assert.Equal(t, 2, strings.Count(buf.String(), "trouble"))
	assert.Contains(t, buf.String(), "unlogged=9")
}
