package sipgw

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sprintAll(v any) string { return fmt.Sprintf("%v %+v %#v %s", v, v, v, v) }

func TestRulesApply(t *testing.T) {
	rules, err := parseRules([]ruleFile{
		{Match: `\+49(\d+)`, Replace: "0$1"},
		{Match: `00(\d+)`, Replace: "+$1"},
		{StripPrefix: "9", AddPrefix: ""},
		{StripPrefix: "", AddPrefix: "+1"},
	})
	require.NoError(t, err)
	tests := []struct{ in, want string }{
		{"+4930123", "030123"},
		{"0044207", "+44207"},
		{"9555", "555"},
		{"555", "+1555"},
		{"+4930123x", "+1+4930123x"}, // the anchored regexp does not match part of it
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, rules.Apply(tt.in))
		})
	}
	assert.Equal(t, "123", Rules(nil).Apply("123"))
}

func TestParseRuleErrors(t *testing.T) {
	for _, f := range []ruleFile{
		{}, {Replace: "1"}, {Match: "(", Replace: "1"}, {Match: "1", AddPrefix: "2"},
		{Match: string(make([]byte, maxPattern+1))},
	} {
		_, err := parseRules([]ruleFile{f})
		assert.True(t, errors.Is(err, ErrBadRule), "%+v: %v", f, err)
	}
}

func TestMatchTrunk(t *testing.T) {
	trunks := []Trunk{
		{Name: "de", Prefixes: []string{"+49", "0049"}},
		{Name: "local", Prefixes: []string{"9"}},
		{Name: "rest"},
	}
	tests := []struct {
		number string
		want   string
	}{
		{"+4930", "de"}, {"004930", "de"}, {"912", "local"}, {"+4420", "rest"},
	}
	for _, tt := range tests {
		i := matchTrunk(trunks, tt.number)
		require.GreaterOrEqual(t, i, 0)
		assert.Equal(t, tt.want, trunks[i].Name, tt.number)
	}
	assert.Equal(t, -1, matchTrunk(trunks[:2], "+44"))
}

func FuzzRules(f *testing.F) {
	f.Add(`\+49(\d+)`, "0$1", "+49301")
	f.Add(`(.*)`, "$1$1$1", "12")
	f.Add(`[`, "", "1")
	f.Fuzz(func(t *testing.T, pattern, replace, number string) {
		rules, err := parseRules([]ruleFile{{Match: pattern, Replace: replace}})
		if err != nil {
			require.ErrorIs(t, err, ErrBadRule)
			return
		}
		out := rules.Apply(number)
		if !rules[0].Match.MatchString(number) {
			require.Equal(t, number, out)
		}
	})
}
