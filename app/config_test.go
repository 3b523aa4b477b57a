package app

import (
	"bytes"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseConfig(t *testing.T) {
	embedded := Config{Audio: "auto", Listen: "127.0.0.1:8471"}
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    Config
		wantErr string // substring; "" for success
	}{
		{name: "defaults run the embedded server", want: embedded},
		{name: "flags", args: []string{"-server", "https://calls.example.com", "-account", "acme", "-number", "+4930123",
			"-audio", "tone:440", "-listen", "127.0.0.1:0"},
			env:  map[string]string{envAPIKey: "k1"},
			want: Config{ServerURL: "https://calls.example.com", Account: "acme", APIKey: "k1", Number: "+4930123", Audio: "tone:440", Listen: "127.0.0.1:0"}},
		{name: "environment", env: map[string]string{envServerURL: "https://env.example.com", envAccount: "envacct", envAPIKey: "k2", envNumber: "1002"},
			want: Config{ServerURL: "https://env.example.com", Account: "envacct", APIKey: "k2", Number: "1002", Audio: "auto", Listen: "127.0.0.1:8471"}},
		{name: "flags beat the environment", args: []string{"-server", "https://flag.example.com", "-account", "flagacct", "-number", "1003"},
			env:  map[string]string{envServerURL: "https://env.example.com", envAccount: "envacct", envAPIKey: "k3", envNumber: "1002"},
			want: Config{ServerURL: "https://flag.example.com", Account: "flagacct", APIKey: "k3", Number: "1003", Audio: "auto", Listen: "127.0.0.1:8471"}},
		{name: "number for the embedded server", args: []string{"-number", "1002", "-audio", "none"},
			want: Config{Number: "1002", Audio: "none", Listen: "127.0.0.1:8471"}},
		{name: "started by a tel: link", args: []string{"-service-numbers", " 90100, 90200 ", "tel:+1-415-555-0100"},
			want: Config{Audio: "auto", Listen: "127.0.0.1:8471", Link: "tel:+1-415-555-0100", ServiceNumbers: []string{"90100", "90200"}}},
		{name: "service numbers from the environment", env: map[string]string{envServiceNumbers: "90300"},
			want: Config{Audio: "auto", Listen: "127.0.0.1:8471", ServiceNumbers: []string{"90300"}}},

		{name: "server without account", args: []string{"-server", "https://x.example.com"}, env: map[string]string{envAPIKey: "k"},
			wantErr: "-server needs an account"},
		{name: "server without API key", args: []string{"-server", "https://x.example.com", "-account", "a"},
			wantErr: "-server needs an account"},
		{name: "number with letters", args: []string{"-number", "12ab"}, wantErr: `-number "12ab" is not a number`},
		{name: "number from the environment with letters", env: map[string]string{envNumber: "abc"}, wantErr: `-number "abc" is not a number`},
		{name: "unknown audio", args: []string{"-audio", "loud"}, wantErr: `-audio "loud": use auto, none or tone:<hz>`},
		{name: "tone of zero", args: []string{"-audio", "tone:0"}, wantErr: "between 0 and 4000 Hz"},
		{name: "tone too high", args: []string{"-audio", "tone:4000"}, wantErr: "between 0 and 4000 Hz"},
		{name: "tone not a number", args: []string{"-audio", "tone:abc"}, wantErr: "between 0 and 4000 Hz"},
		{name: "tone NaN", args: []string{"-audio", "tone:NaN"}, wantErr: "between 0 and 4000 Hz"},
		{name: "stray argument", args: []string{"-audio", "none", "tel:1", "extra"}, wantErr: `unexpected argument "extra"`},
		{name: "bad service number", args: []string{"-service-numbers", "90000,abc"}, wantErr: `-service-numbers: "abc" is not a number`},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "flag provided but not defined: -nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := ParseConfig(tc.args, func(k string) string { return tc.env[k] }, &out)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.want.ServerURL == "", got.Embedded())
			assert.Empty(t, out.String())
		})
	}
}

func TestParseConfigHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := ParseConfig([]string{"-h"}, func(string) string { return "" }, &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	for _, f := range []string{"-server", "-account", "-number", "-audio", "-listen"} {
		assert.Contains(t, out.String(), f)
	}
}

func TestMainExitCodes(t *testing.T) {
	assert.Equal(t, 0, Main([]string{"-h"}), "help is not an error")
	assert.Equal(t, 2, Main([]string{"-audio", "loud"}))
}
