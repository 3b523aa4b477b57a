package platform

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/internal/testlog"
)

// The signatures are the contract's, letter for letter
// (docs/android.md; the Java side declares exactly these).
func TestBridgeMethodsMatchTheContract(t *testing.T) {
	contract := map[string]string{
		"checkPermissions":        "(Landroid/content/Context;)Z",
		"requestPermissions":      "(Landroid/content/Context;I)V",
		"requestFcmToken":         "(Landroid/content/Context;I)V",
		"startCallService":        "(Landroid/content/Context;Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String;",
		"stopCallService":         "(Landroid/content/Context;)Ljava/lang/String;",
		"showIncomingCall":        "(Landroid/content/Context;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String;",
		"dismissIncomingCall":     "(Landroid/content/Context;Ljava/lang/String;)V",
		"setAudioRoute":           "(Landroid/content/Context;Ljava/lang/String;)Ljava/lang/String;",
		"takePendingIncomingCall": "(Landroid/content/Context;)Ljava/lang/String;",
		"takePendingCallAction":   "(Landroid/content/Context;)Ljava/lang/String;",
		"storeRegisteredNumber":   "(Landroid/content/Context;Ljava/lang/String;)Ljava/lang/String;",
		"registeredNumber":        "(Landroid/content/Context;)Ljava/lang/String;",
	}
	require.Len(t, bridgeMethods, len(contract))
	for _, m := range bridgeMethods {
		assert.Equal(t, contract[m.name], m.sig, m.name)
		assert.NotZero(t, m.returns(), "%s: return type the C side cannot take", m.name)
		ps := m.params()
		assert.NotNil(t, ps, "%s: parameters the C side cannot pass", m.name)
		assert.LessOrEqual(t, len(ps), 4, "%s: more arguments than ONECXI_MAX_ARGS", m.name)
	}
}

func TestBridgeMethodShapes(t *testing.T) {
	tests := []struct {
		sig     string
		returns byte
		params  string
		ok      bool
	}{
		{"(Landroid/content/Context;)Z", 'Z', "", true},
		{"(Landroid/content/Context;I)V", 'V', "I", true},
		{"(Landroid/content/Context;Ljava/lang/String;I)Ljava/lang/String;", 'S', "SI", true},
		{"(I)V", 'V', "", false},                          // no Context first
		{"(Landroid/content/Context;J)V", 'V', "", false}, // a long
		{"(Landroid/content/Context;)I", 0, "", true},     // an int result
		{"(Landroid/content/Context;Ljava/lang/Object;)V", 'V', "", false},
	}
	for _, tt := range tests {
		m := bridgeMethod{"m", tt.sig}
		assert.Equal(t, tt.returns, m.returns(), tt.sig)
		ps := m.params()
		if !tt.ok {
			assert.Nil(t, ps, tt.sig)
			continue
		}
		assert.Equal(t, tt.params, string(ps), tt.sig)
	}
}

// Each kind Java reports maps to its typed error; anything else is kind
// failed; the message is quoted short.
func TestNativeResult(t *testing.T) {
	long := strings.Repeat("x", 5000)
	tests := []struct {
		res     string
		want    error // nil: success
		kind    string
		inError string
	}{
		{"", nil, "", ""},
		{"permission: RECORD_AUDIO denied", ErrPermission, kindPermission, `"RECORD_AUDIO den`},
		{"not_allowed: ForegroundServiceStartNotAllowedException", ErrNotAllowed, kindNotAllowed, "not_allowed"},
		{"unsupported: API 25", ErrUnsupported, kindUnsupported, `"API 25"`},
		{"invalid: route \"loud\"", ErrInvalid, kindInvalid, "invalid"},
		{"failed: java.lang.IllegalStateException: boom", ErrNativeFailed, kindFailed, `"java.lang.Illega`},
		{"weird: thing", ErrNativeFailed, kindFailed, `"weird: thing"`},
		{"permission", ErrNativeFailed, kindFailed, `"permission"`},
		{"permission:no space", ErrNativeFailed, kindFailed, ""},
		{"failed: " + long, ErrNativeFailed, kindFailed, "(5000 bytes)"},
		{"failed: \xff\xfe\x00bad", ErrNativeFailed, kindFailed, `\xff`},
	}
	for _, tt := range tests {
		err := nativeResult("op", tt.res)
		if tt.want == nil {
			assert.NoError(t, err)
			continue
		}
		require.Error(t, err, tt.res)
		assert.ErrorIs(t, err, tt.want, tt.res)
		var ne *nativeError
		require.ErrorAs(t, err, &ne)
		assert.Equal(t, tt.kind, ne.kind, tt.res)
		assert.Contains(t, err.Error(), "platform: android op: ")
		assert.Contains(t, err.Error(), tt.inError)
		assert.Less(t, len(err.Error()), 120, "the message quotes a short prefix: %q", err.Error())
		for _, other := range []error{ErrPermission, ErrNotAllowed, ErrUnsupported, ErrInvalid, ErrNativeFailed} {
			if other != tt.want {
				assert.NotErrorIs(t, err, other, tt.res)
			}
		}
	}
	// A failed call is kind failed, whatever the Java text says.
	err := bridgeResult("op", "", javaFailure("op", "permission: not really"))
	assert.ErrorIs(t, err, ErrNativeFailed)
	assert.NotErrorIs(t, err, ErrPermission)
	assert.ErrorIs(t, bridgeResult("op", "permission: x", nil), ErrPermission)
}

// Strings from Java arrive as UTF-16: unpaired surrogates become U+FFFD,
// NUL and astral characters survive, a long one is cut and marked.
func TestFromJava(t *testing.T) {
	emoji := utf16.Encode([]rune("📞"))
	tests := []struct {
		name  string
		units []uint16
		full  int
		want  string
		cut   bool
	}{
		{"empty", nil, 0, "", false},
		{"null-cut", nil, 10, "", true}, // the C side had no memory for it
		{"ascii", []uint16{'a', 'b'}, 2, "ab", false},
		{"nul", []uint16{'a', 0, 'b'}, 3, "a\x00b", false},
		{"emoji", emoji, 2, "📞", false},
		{"lone high surrogate", []uint16{'a', 0xD83D}, 2, "a\uFFFD", false},
		{"lone low surrogate", []uint16{0xDCDE, 'b'}, 2, "\uFFFDb", false},
		{"swapped pair", []uint16{emoji[1], emoji[0]}, 2, "\uFFFD\uFFFD", false},
		{"cut", []uint16{'a', 'b'}, maxJavaString + 1, "ab", true},
	}
	for _, tt := range tests {
		got := fromJava(tt.units, tt.full)
		assert.Equal(t, tt.want, got.s, tt.name)
		assert.Equal(t, tt.cut, got.cut, tt.name)
		assert.True(t, utf8.ValidString(got.s), tt.name)
	}
	// More units than the bound are never decoded.
	big := make([]uint16, maxJavaString+100)
	for i := range big {
		big[i] = 'x'
	}
	got := fromJava(big, len(big))
	assert.Len(t, got.s, maxJavaString)
	assert.True(t, got.cut)
}

func TestToJava(t *testing.T) {
	tests := []struct {
		in   string
		want []uint16
	}{
		{"", []uint16{}},
		{"ab", []uint16{'a', 'b'}},
		{"a\x00b", []uint16{'a', 0, 'b'}},
		{"📞", utf16.Encode([]rune("📞"))},
		{"\xff", []uint16{0xFFFD}},
		{"a\xc3", []uint16{'a', 0xFFFD}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, toJava(tt.in), "%q", tt.in)
	}
	// Round trip.
	for _, s := range []string{"Zoë 📞 \x00 end", strings.Repeat("é", 1000)} {
		u := toJava(s)
		assert.Equal(t, s, fromJava(u, len(u)).s)
	}
}

func TestParsePushData(t *testing.T) {
	tests := []struct {
		name string
		in   javaText
		ok   bool
	}{
		{"object", javaText{s: `{"callFrom":"1001","callTo":"1002"}`}, true},
		{"empty object", javaText{s: `{}`}, true},
		{"null", javaText{s: `null`}, false},
		{"array", javaText{s: `[1,2]`}, false},
		{"string", javaText{s: `"x"`}, false},
		{"truncated", javaText{s: `{"callFrom":"10`}, false},
		{"empty", javaText{s: ``}, false},
		{"garbage", javaText{s: "\uFFFD\x00{"}, false},
		{"trailing", javaText{s: `{} {}`}, false},
		{"cut", javaText{s: `{}`, cut: true}, false},
	}
	for _, tt := range tests {
		m, err := parsePushData(tt.in)
		if tt.ok {
			assert.NoError(t, err, tt.name)
			assert.NotNil(t, m, tt.name)
			continue
		}
		assert.ErrorIs(t, err, ErrInvalid, tt.name)
		assert.Less(t, len(err.Error()), 140, tt.name)
	}
	long := `{"x":"` + strings.Repeat("y", 10000) + `"` // not closed
	_, err := parsePushData(javaText{s: long})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "(10007 bytes)")
}

func TestParseCallAction(t *testing.T) {
	long := strings.Repeat("c", maxCallIDLen+1)
	tests := []struct {
		callID, action string
		cutID          bool
		want           CallAction
		ok             bool
	}{
		{"c1", "accept", false, CallAction{Action: ActionAccept, CallID: "c1"}, true},
		{"c1", "decline", false, CallAction{Action: ActionDecline, CallID: "c1"}, true},
		{"c1", "hangup", false, CallAction{Action: ActionHangup, CallID: "c1"}, true},
		{"", "hangup", false, CallAction{Action: ActionHangup, CallID: ""}, true},
		{"", "accept", false, CallAction{}, false},
		{"c1", "ACCEPT", false, CallAction{}, false},
		{"c1", "answer", false, CallAction{}, false},
		{"c1", "", false, CallAction{}, false},
		{long, "accept", false, CallAction{}, false},
		{"c1", "accept", true, CallAction{}, false},
		{"c\x00 1", "decline", false, CallAction{Action: ActionDecline, CallID: "c\x00 1"}, true}, // the SDK finds no such call
	}
	for _, tt := range tests {
		got, err := parseCallAction(javaText{s: tt.callID, cut: tt.cutID}, javaText{s: tt.action})
		if !tt.ok {
			assert.ErrorIs(t, err, ErrInvalid, "%q %q", tt.callID, tt.action)
			assert.Less(t, len(err.Error()), 140)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.want, got)
	}
}

func TestParsePendingAction(t *testing.T) {
	tests := []struct {
		in   string
		want CallAction
		ok   bool
		err  bool
	}{
		{"", CallAction{}, false, false},
		{"accept call-1", CallAction{Action: ActionAccept, CallID: "call-1"}, true, false},
		{"decline call 2", CallAction{Action: ActionDecline, CallID: "call 2"}, true, false},
		{"hangup call-1", CallAction{}, false, true},
		{"accept", CallAction{}, false, true},
		{"accept ", CallAction{}, false, true},
		{"bogus call-1", CallAction{}, false, true},
		{strings.Repeat("z", 100000), CallAction{}, false, true},
	}
	for _, tt := range tests {
		got, ok, err := parsePendingAction(tt.in)
		assert.Equal(t, tt.ok, ok, "%.20q", tt.in)
		assert.Equal(t, tt.want, got, "%.20q", tt.in)
		if tt.err {
			assert.ErrorIs(t, err, ErrInvalid, "%.20q", tt.in)
			assert.Less(t, len(err.Error()), 200)
		} else {
			assert.NoError(t, err)
		}
	}
}

func TestCheckToken(t *testing.T) {
	good := "dGVzdA:APA91b" + strings.Repeat("A", 140)
	tests := []struct {
		name string
		in   javaText
		want error
	}{
		{"fcm-like", javaText{s: good}, nil},
		{"empty", javaText{}, ErrNativeFailed},
		{"space", javaText{s: "abc def"}, ErrInvalid},
		{"newline", javaText{s: "abc\ndef"}, ErrInvalid},
		{"nul", javaText{s: "abc\x00"}, ErrInvalid},
		{"del", javaText{s: "abc\x7f"}, ErrInvalid},
		{"non-ascii", javaText{s: "abcé"}, ErrInvalid},
		{"replacement", javaText{s: "ab\uFFFD"}, ErrInvalid},
		{"too long", javaText{s: strings.Repeat("a", 4097)}, ErrInvalid},
		{"cut", javaText{s: "abc", cut: true}, ErrInvalid},
	}
	for _, tt := range tests {
		err := checkToken(tt.in)
		if tt.want == nil {
			assert.NoError(t, err, tt.name)
			continue
		}
		assert.ErrorIs(t, err, tt.want, tt.name)
		assert.NotContains(t, err.Error(), "abc", "%s: the token is not quoted", tt.name)
	}
}

// Request codes are 1..65535, never one still waiting, and wrap around.
func TestInboxRequestCodes(t *testing.T) {
	in := newNativeInbox()
	c1, _, err := in.expect()
	require.NoError(t, err)
	c2, _, err := in.expect()
	require.NoError(t, err)
	assert.Equal(t, int32(1), c1)
	assert.Equal(t, int32(2), c2)

	in.next = maxRequestCode - 1
	c3, _, err := in.expect()
	require.NoError(t, err)
	assert.Equal(t, int32(maxRequestCode), c3)
	c4, _, err := in.expect()
	require.NoError(t, err)
	assert.Equal(t, int32(3), c4, "wraps to 1 and skips 1 and 2, still waiting")
	in.forget(c1)
	in.next = maxRequestCode
	c5, _, err := in.expect()
	require.NoError(t, err)
	assert.Equal(t, int32(1), c5, "a forgotten code is free again")

	// Every code waiting: an error, not a hang.
	full := newNativeInbox()
	for range maxRequestCode {
		_, _, err := full.expect()
		require.NoError(t, err)
	}
	_, _, err = full.expect()
	assert.ErrorIs(t, err, ErrNativeFailed)
}

// An answer reaches the request with its code, once; one for a code
// nobody waits for is dropped and logged, and never blocks.
func TestInboxAnswers(t *testing.T) {
	var logs testlog.Buffer
	in := newNativeInbox()
	in.log = logs.Logger()
	code, ch, err := in.expect()
	require.NoError(t, err)

	in.permissionsResult(code+100, true) // unknown
	assert.Contains(t, logs.String(), "nobody waits")
	assert.Contains(t, logs.String(), fmt.Sprintf("request_code=%d", code+100))
	select {
	case <-ch:
		t.Fatal("an answer for another code arrived")
	default:
	}

	in.permissionsResult(code, true)
	in.permissionsResult(code, false) // answered twice: dropped
	ans := <-ch
	assert.True(t, ans.granted)
	select {
	case <-ch:
		t.Fatal("the second answer arrived too")
	default:
	}

	code, ch, err = in.expect()
	require.NoError(t, err)
	in.fcmToken(code, javaText{s: "tok"}, javaText{s: ""})
	ans = <-ch
	assert.Equal(t, "tok", ans.token.s)

	code, _, err = in.expect()
	require.NoError(t, err)
	in.forget(code) // given up on (ctx ended)
	done := make(chan struct{})
	go func() {
		in.fcmToken(code, javaText{s: "late"}, javaText{})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a late answer blocked Java's thread")
	}
}

// recorder is a nativeReceiver that records what it is given.
type recorder struct {
	mu       sync.Mutex
	want     bool
	got      []nativeEvent
	arrived  chan struct{}
	block    chan struct{} // when set, deliver waits on it for the first event
	blocked  chan struct{}
	blockOne sync.Once
}

func newRecorder(want bool) *recorder {
	return &recorder{want: want, arrived: make(chan struct{}, 1024)}
}

func (r *recorder) wants(nativeEvent) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.want
}

func (r *recorder) deliver(ev nativeEvent) {
	if r.block != nil {
		r.blockOne.Do(func() {
			close(r.blocked)
			<-r.block
		})
	}
	r.mu.Lock()
	r.got = append(r.got, ev)
	r.mu.Unlock()
	r.arrived <- struct{}{}
}

func (r *recorder) wait(t *testing.T, n int) []nativeEvent {
	t.Helper()
	for range n {
		select {
		case <-r.arrived:
		case <-time.After(5 * time.Second):
			require.FailNow(t, "events missing", "want %d", n)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]nativeEvent(nil), r.got...)
}

// Events of every kind reach the receiver in the order Java sent them,
// and Java's thread never waits for a busy receiver.
func TestInboxEventsInOrderWithoutBlocking(t *testing.T) {
	in := newNativeInbox()
	r := newRecorder(true)
	r.block, r.blocked = make(chan struct{}), make(chan struct{})
	in.install(r, slog.New(slog.DiscardHandler))

	require.True(t, in.incomingPush(javaText{s: `{"n":"0"}`}))
	<-r.blocked // the receiver is stuck on the first event
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := 1; i <= 30; i++ {
			switch i % 3 {
			case 0:
				in.incomingPush(javaText{s: fmt.Sprintf(`{"n":"%d"}`, i)})
			case 1:
				in.callAction(javaText{s: fmt.Sprintf("c%d", i)}, javaText{s: "decline"})
			case 2:
				in.tokenRefreshed(javaText{s: fmt.Sprintf("tok%d", i)})
			}
		}
	}()
	select {
	case <-sent:
	case <-time.After(5 * time.Second):
		t.Fatal("Java's thread waited for a busy receiver")
	}
	close(r.block)
	got := r.wait(t, 31)
	for i, ev := range got {
		switch i % 3 {
		case 0:
			require.NotNil(t, ev.data, "event %d", i)
			assert.Equal(t, fmt.Sprint(i), ev.data["n"])
		case 1:
			require.NotNil(t, ev.action, "event %d", i)
			assert.Equal(t, CallAction{Action: ActionDecline, CallID: fmt.Sprintf("c%d", i)}, *ev.action)
		case 2:
			assert.Equal(t, fmt.Sprintf("tok%d", i), ev.token, "event %d", i)
		}
	}
}

// With no receiver, or one that does not want it, a push or action is
// refused (Java keeps it for the app's start); hostile input is dropped
// and logged, never queued.
func TestInboxRefusesAndDrops(t *testing.T) {
	var logs testlog.Buffer
	in := newNativeInbox()
	in.log = logs.Logger()
	assert.False(t, in.incomingPush(javaText{s: `{}`}), "no receiver")
	assert.False(t, in.callAction(javaText{s: "c1"}, javaText{s: "accept"}), "no receiver")
	in.tokenRefreshed(javaText{s: "tok"}) // dropped, logged

	r := newRecorder(false)
	in.install(r, logs.Logger())
	assert.False(t, in.incomingPush(javaText{s: `{}`}), "not wanted")
	assert.False(t, in.callAction(javaText{s: "c1"}, javaText{s: "hangup"}), "not wanted")

	r.mu.Lock()
	r.want = true
	r.mu.Unlock()
	assert.True(t, in.incomingPush(javaText{s: `not json`}), "dropped, so taken")
	assert.True(t, in.incomingPush(javaText{s: `{}`, cut: true}), "dropped, so taken")
	assert.True(t, in.callAction(javaText{s: "c1"}, javaText{s: "explode"}), "dropped, so taken")
	in.tokenRefreshed(javaText{s: "bad token"})
	in.tokenRefreshed(javaText{s: strings.Repeat("t", 5000)})
	assert.True(t, in.callAction(javaText{s: "c1"}, javaText{s: "accept"}))
	got := r.wait(t, 1)
	require.Len(t, got, 1, "only the good action was queued")
	assert.Equal(t, CallAction{Action: ActionAccept, CallID: "c1"}, *got[0].action)

	out := logs.String()
	for _, want := range []string{"nothing in this process takes this", "not a JSON object", "unknown call action", "dropping a refreshed token"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, strings.Repeat("t", 100), "a long token is not logged")
}

// A flood beyond the queue's bound is refused, and Java keeps the rest.
func TestInboxQueueBound(t *testing.T) {
	in := newNativeInbox()
	r := newRecorder(true)
	r.block, r.blocked = make(chan struct{}), make(chan struct{})
	in.install(r, slog.New(slog.DiscardHandler))
	require.True(t, in.incomingPush(javaText{s: `{}`}))
	<-r.blocked
	taken := 0
	for range maxPendingEvents + 10 {
		if in.incomingPush(javaText{s: `{}`}) {
			taken++
		}
	}
	assert.Equal(t, maxPendingEvents, taken)
	close(r.block)
	r.wait(t, maxPendingEvents+1)
}

// Many Java threads at once (run with -race): every answer and event
// arrives, none twice.
func TestInboxConcurrent(t *testing.T) {
	in := newNativeInbox()
	r := newRecorder(true)
	in.install(r, slog.New(slog.DiscardHandler))
	var wg sync.WaitGroup
	const n = 40
	for i := range n {
		wg.Go(func() {
			code, ch, err := in.expect()
			if !assert.NoError(t, err) {
				return
			}
			defer in.forget(code)
			go in.permissionsResult(code, i%2 == 0)
			select {
			case ans := <-ch:
				assert.Equal(t, i%2 == 0, ans.granted)
			case <-time.After(5 * time.Second):
				assert.Fail(t, "answer missing")
			}
		})
		wg.Go(func() { in.callAction(javaText{s: fmt.Sprint(i)}, javaText{s: "accept"}) })
	}
	wg.Wait()
	got := r.wait(t, n)
	seen := map[string]bool{}
	for _, ev := range got {
		require.NotNil(t, ev.action)
		assert.False(t, seen[ev.action.CallID], "delivered twice: %s", ev.action.CallID)
		seen[ev.action.CallID] = true
	}
	assert.Len(t, seen, n)
}

// The typed errors are distinct sentinels.
func TestSentinelsDistinct(t *testing.T) {
	all := []error{ErrUnsupported, ErrPermission, ErrNotAllowed, ErrInvalid, ErrNativeFailed}
	for i, a := range all {
		for j, b := range all {
			assert.Equal(t, i == j, errors.Is(a, b))
		}
	}
}
