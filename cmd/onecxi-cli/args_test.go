package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseArgs(t *testing.T) {
	env := map[string]string{"ONECXI_API_KEY": "ocx_k", "ONECXI_SERVER_URL": "http://127.0.0.1:1", "ONECXI_ACCOUNT": "demo", "ONECXI_NUMBER": "1001"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name    string
		args    []string
		env     func(string) string
		wantErr string
		check   func(t *testing.T, o options)
	}{
		{"inbound", []string{"inbound", "90000"}, getenv, "", func(t *testing.T, o options) {
			assert.Equal(t, cmdInbound, o.cmd)
			assert.Equal(t, "90000", o.target)
			assert.Equal(t, "ocx_k", o.apiKey)
		}},
		{"flags override env", []string{"-number", "2002", "-dtmf", "12#", "app", "1001"}, getenv, "", func(t *testing.T, o options) {
			assert.Equal(t, "2002", o.number)
			assert.Equal(t, "12#", o.dtmf)
		}},
		{"listen", []string{"-decline", "listen"}, getenv, "", func(t *testing.T, o options) { assert.True(t, o.decline) }},
		{"no command", nil, getenv, "missing command", nil},
		{"unknown command", []string{"fax", "1"}, getenv, "unknown command", nil},
		{"missing number", []string{"inbound"}, getenv, "exactly one number", nil},
		{"bad number", []string{"outbound", "12ab"}, getenv, "not a number", nil},
		{"listen with number", []string{"listen", "1"}, getenv, "takes no number", nil},
		{"bad dtmf", []string{"-dtmf", "1A", "inbound", "1"}, getenv, "-dtmf", nil},
		{"negative duration", []string{"-duration", "-1s", "inbound", "1"}, getenv, "negative", nil},
		{"no key", []string{"inbound", "1"}, func(k string) string {
			if k == "ONECXI_API_KEY" {
				return ""
			}
			return env[k]
		}, "ONECXI_API_KEY", nil},
		{"no server", []string{"inbound", "1"}, func(k string) string {
			if k == "ONECXI_SERVER_URL" {
				return ""
			}
			return env[k]
		}, "-server", nil},
		{"help", []string{"-h"}, getenv, "usage:", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseArgs(tt.args, tt.env)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, o)
		})
	}
}

func TestParseArgsHelp(t *testing.T) {
	_, err := parseArgs([]string{"-h"}, func(string) string { return "" })
	var help *helpError
	require.ErrorAs(t, err, &help, "main prints -h's text and exits 0")
	assert.Contains(t, help.text, "listen")
	assert.Contains(t, help.text, "-duration")
}
