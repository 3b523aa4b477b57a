package server_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

// TestLoadAppToApp relays ONECXI_LOAD calls' worth of app-to-app audio (two
// WebSockets per call, 50 frames/s each way) through a real server in this
// process and reports the relay delay. It is a measurement, not part of the
// normal suite (clients and server share the CPU here, and -race distorts
// it): run it with
//
//	ONECXI_LOAD=500 go test -run TestLoadAppToApp -v ./server/
//
// or, against a server in its own process, with ONECXI_LOAD_URL and
// ONECXI_API_KEY (account "acme") as well.
//
// With ONECXI_LOAD_P99 set (e.g. "20ms") it fails if the p99 is above it.
func TestLoadAppToApp(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("ONECXI_LOAD"))
	if n <= 0 {
		t.Skip("set ONECXI_LOAD=<calls> to run the load test")
	}
	measure := 10 * time.Second
	var h *harness
	if url := os.Getenv("ONECXI_LOAD_URL"); url != "" {
		// An external server (e.g. bin/onecxi-server -config …), so that its
		// CPU can be told apart from the clients'; account acme, key in
		// ONECXI_API_KEY.
		h = &harness{t: t, base: url, ws: strings.Replace(url, "http", "ws", 1),
			keys: map[string]string{"acme": os.Getenv("ONECXI_API_KEY")}}
	} else {
		// One account places every call: its own caps would be the limit.
		h = newHarness(t, harnessOpts{mutate: func(c *server.Config) {
			c.Limits.CallsPerAccount = server.NoLimit
			c.Limits.EventConnsPerAccount = server.NoLimit
		}})
	}
	stats := func() server.Stats {
		if h.srv == nil {
			return server.Stats{}
		}
		return h.srv.Stats()
	}

	var hist delayHistogram
	legs := make([]*loadLeg, 0, 2*n)
	for i := range n {
		a, b := fmt.Sprint(100000+i), fmt.Sprint(200000+i)
		ev := h.eventsFor("ev", "acme", b)
		ca := h.newLoadLeg(&hist)
		require.NoError(t, ca.conn.Send(wire.Message{Type: wire.TypeStart, Kind: wire.KindAppToApp, To: b, RegisteredNumber: a}))
		ring := ca.expect(t, wire.TypeRinging)
		ev.expect(wire.TypeIncoming)
		cb := h.newLoadLeg(&hist)
		require.NoError(t, cb.conn.Send(wire.Message{Type: wire.TypeStart, Kind: wire.KindAppToAppAnswer, To: a, RegisteredNumber: b, CallID: ring.CallID}))
		cb.expect(t, wire.TypeAnswered)
		ca.expect(t, wire.TypeAnswered)
		ev.conn.Close(wire.CloseNormal, "")
		legs = append(legs, ca, cb)
	}
	t.Logf("%d calls set up; %d goroutines", n, runtime.NumGoroutine())

	// One sender goroutine for all legs, spreading them over the 20 ms frame
	// period one slot per millisecond, as independent phones would.
	ctx, stop := context.WithCancel(context.Background())
	var sent atomic.Uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		slot := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
			for i := slot % 20; i < len(legs); i += 20 {
				legs[i].sendStamped()
				sent.Add(1)
			}
			slot++
		}
	}()
	time.Sleep(2 * time.Second) // warm up
	hist.reset()
	before, sentBefore, cpuBefore := stats(), sent.Load(), cpuTime()
	time.Sleep(measure)
	after, sentAfter, cpuAfter := stats(), sent.Load(), cpuTime()
	p50, p99, maxD, count := hist.percentiles()
	stop()
	wg.Wait()
	var clientDrops uint64
	for _, l := range legs {
		clientDrops += l.conn.Stats().AudioDropped
	}
	t.Logf("process CPU (clients and server): %.0f%% of one core", 100*(cpuAfter-cpuBefore).Seconds()/measure.Seconds())
	t.Logf("calls=%d sent=%.0f/s relayed=%.0f/s server drops=%d client drops=%d received=%d p50=%v p99=%v max=%v",
		n, float64(sentAfter-sentBefore)/measure.Seconds(), float64(after.FramesRelayed-before.FramesRelayed)/measure.Seconds(),
		after.FramesDropped-before.FramesDropped, clientDrops, count, p50, p99, maxD)
	if limit, err := time.ParseDuration(os.Getenv("ONECXI_LOAD_P99")); err == nil {
		require.LessOrEqual(t, p99, limit)
	}
}

// loadLeg is a minimal client: it stamps each frame with its send time and
// records, on receipt, how long the frame took.
type loadLeg struct {
	conn *wire.Conn
	msgs chan wire.Message
	seq  uint32
	hist *delayHistogram
}

func (h *harness) newLoadLeg(hist *delayHistogram) *loadLeg {
	h.t.Helper()
	ws, resp, err := h.dialRaw(wire.PathCall, h.creds("acme"), []string{wire.Subprotocol})
	require.NoError(h.t, err)
	resp.Body.Close()
	l := &loadLeg{conn: wire.NewConn(ws, testLogger()), msgs: make(chan wire.Message, 16), hist: hist}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = l.conn.Run(context.Background(), wire.Handlers{
			OnMessage: func(m wire.Message) {
				select {
				case l.msgs <- m:
				default:
				}
			},
			OnAudio: func(raw []byte) {
				sentAt := int64(binary.LittleEndian.Uint64(raw[wire.AudioHeaderSize:]))
				l.hist.add(time.Duration(time.Now().UnixNano() - sentAt))
			},
		})
	}()
	h.t.Cleanup(func() {
		l.conn.Close(websocket.CloseGoingAway, "")
		<-done
	})
	return l
}

func (l *loadLeg) expect(t *testing.T, typ wire.Type) wire.Message {
	t.Helper()
	select {
	case m := <-l.msgs:
		require.Equal(t, typ, m.Type, "%+v", m)
		return m
	case <-time.After(waitMsg):
		t.Fatalf("no %s", typ)
		return wire.Message{}
	}
}

func (l *loadLeg) sendStamped() {
	b := make([]byte, wire.AudioHeaderSize+2*wire.FrameSamples)
	b[0] = wire.AudioMagic
	binary.BigEndian.PutUint32(b[2:], l.seq)
	binary.BigEndian.PutUint32(b[6:], l.seq*wire.FrameSamples)
	l.seq++
	binary.LittleEndian.PutUint64(b[wire.AudioHeaderSize:], uint64(time.Now().UnixNano()))
	l.conn.SendAudioRaw(b)
}

// delayHistogram counts delays in 100 µs buckets up to 1 s.
type delayHistogram struct {
	buckets [10001]atomic.Uint64
}

func (d *delayHistogram) add(v time.Duration) {
	i := min(max(int(v/(100*time.Microsecond)), 0), len(d.buckets)-1)
	d.buckets[i].Add(1)
}

func (d *delayHistogram) reset() {
	for i := range d.buckets {
		d.buckets[i].Store(0)
	}
}

func (d *delayHistogram) percentiles() (p50, p99, maxD time.Duration, n uint64) {
	counts := make([]uint64, len(d.buckets))
	for i := range d.buckets {
		counts[i] = d.buckets[i].Load()
		n += counts[i]
	}
	at := func(q float64) time.Duration {
		want := uint64(q * float64(n))
		var acc uint64
		for i, c := range counts {
			acc += c
			if acc >= want && acc > 0 {
				return time.Duration(i+1) * 100 * time.Microsecond
			}
		}
		return 0
	}
	last := len(counts) - 1
	for last > 0 && counts[last] == 0 {
		last--
	}
	return at(0.5), at(0.99), time.Duration(last+1) * 100 * time.Microsecond, n
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
