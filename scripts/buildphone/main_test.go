package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testKey = "k3y-0123456789abcdefWXYZ"

func TestParseSecrets(t *testing.T) {
	good := `{"ONECXI_ACCOUNT": "acme", "ONECXI_API_KEY": "` + testKey + `", "ONECXI_SERVER_URL": "https://calls.example.com:8471"}`
	s, err := ParseSecrets([]byte(good))
	if err != nil {
		t.Fatalf("good file: %v", err)
	}
	if s.ServerURL != "https://calls.example.com:8471" || s.Account != "acme" || s.APIKey != testKey {
		t.Fatalf("decoded %+v", s)
	}
	if _, err := ParseSecrets([]byte(`{}`)); err != nil {
		t.Fatalf("empty object: %v", err)
	}
	if _, err := ParseSecrets([]byte(`{"ONECXI_SERVER_URL": "http://127.0.0.1:8471", "ONECXI_ACCOUNT": "demo"}`)); err != nil {
		t.Fatalf("no key (from the environment at run time): %v", err)
	}

	for name, tc := range map[string]struct{ in, want string }{
		"syntax":        {"{\n  \"ONECXI_ACCOUNT\": \"acme\",\n  \"ONECXI_API_KEY\": \"" + testKey + "\"\n  \"ONECXI_SERVER_URL\": \"x\"\n}", "line 4"},
		"trailing":      {`{"ONECXI_ACCOUNT": "a"} {}`, "extra data"},
		"empty":         {``, "empty or truncated"},
		"truncated":     {`{"ONECXI_ACCOUNT": "a"`, "truncated"},
		"not object":    {`["a"]`, "must be"},
		"number":        {`{"ONECXI_API_KEY": 12345}`, "ONECXI_API_KEY must be a string"},
		"unknown":       {`{"ONECXI_APIKEY": "x"}`, `unknown key "ONECXI_APIKEY"`},
		"template":      {mustRead(t, "../../secrets.template.json"), "placeholder"},
		"space":         {`{"ONECXI_SERVER_URL": "https://a.example", "ONECXI_ACCOUNT": "a b"}`, "ONECXI_ACCOUNT contains a space"},
		"quote":         {`{"ONECXI_SERVER_URL": "https://a.example", "ONECXI_ACCOUNT": "a", "ONECXI_API_KEY": "x'y"}`, "ONECXI_API_KEY contains"},
		"scheme":        {`{"ONECXI_SERVER_URL": "ftp://a.example", "ONECXI_ACCOUNT": "a"}`, "http:// or https://"},
		"no host":       {`{"ONECXI_SERVER_URL": "https://", "ONECXI_ACCOUNT": "a"}`, "with a host"},
		"no account":    {`{"ONECXI_SERVER_URL": "https://a.example"}`, "ONECXI_ACCOUNT is empty"},
		"key no server": {`{"ONECXI_API_KEY": "` + testKey + `"}`, "without ONECXI_SERVER_URL"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseSecrets([]byte(tc.in))
			if err == nil {
				t.Fatalf("no error for %q", tc.in)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Fatalf("error shows the key: %q", err)
			}
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLinkerFlags(t *testing.T) {
	real, shown := LinkerFlags(Secrets{ServerURL: "https://a.example", Account: "acme", APIKey: testKey})
	wantReal := "-X github.com/onecxi/phone/app.buildServerURL=https://a.example -X github.com/onecxi/phone/app.buildAccount=acme -X github.com/onecxi/phone/app.buildAPIKey=" + testKey
	if got := strings.Join(real, " "); got != wantReal {
		t.Fatalf("flags\n got %s\nwant %s", got, wantReal)
	}
	if got := strings.Join(shown, " "); strings.Contains(got, testKey) || !strings.HasSuffix(got, "buildAPIKey=…WXYZ") {
		t.Fatalf("shown flags %q", got)
	}
	if real, _ := LinkerFlags(Secrets{}); len(real) != 0 {
		t.Fatalf("no secrets gave %q", real)
	}
	if Redact("short-key") != "<redacted>" {
		t.Fatal("a short key is shown in part")
	}
}

// TestRun runs the tool with a fake go command and checks it passes the
// key to go build but never prints it.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets.local.json")
	if err := os.WriteFile(secrets, []byte(`{"ONECXI_SERVER_URL": "https://a.example", "ONECXI_ACCOUNT": "acme", "ONECXI_API_KEY": "`+testKey+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	argsFile := filepath.Join(dir, "args")
	fakeGo := filepath.Join(dir, "go")
	if err := os.WriteFile(fakeGo, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > "+argsFile+"\necho \"GOOS=$GOOS\" > "+argsFile+".env\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err := run([]string{"-secrets", secrets, "-go", fakeGo, "-ldflags", "-s -w", "-env", "GOOS=windows", "--", "-trimpath", "-o", "bin/x", "."}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v (%s)", err, errOut.String())
	}
	if strings.Contains(out.String()+errOut.String(), testKey) {
		t.Fatalf("printed the key: %s", out.String())
	}
	if !strings.HasPrefix(out.String(), "GOOS=windows "+fakeGo+" build -ldflags '-s -w -X") || !strings.Contains(out.String(), "buildAPIKey=…WXYZ'") {
		t.Fatalf("printed %q", out.String())
	}
	got := strings.Split(strings.TrimSpace(mustRead(t, argsFile)), "\n")
	want := []string{"build", "-ldflags", "-s -w -X github.com/onecxi/phone/app.buildServerURL=https://a.example -X github.com/onecxi/phone/app.buildAccount=acme -X github.com/onecxi/phone/app.buildAPIKey=" + testKey, "-trimpath", "-o", "bin/x", "."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("go called with\n%q\nwant\n%q", got, want)
	}
	if env := mustRead(t, argsFile+".env"); env != "GOOS=windows\n" {
		t.Fatalf("go ran with %q", env)
	}

	// A missing file builds without defaults.
	out.Reset()
	if err := run([]string{"-secrets", filepath.Join(dir, "none.json"), "-go", fakeGo, "--", "-o", "bin/x", "."}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, argsFile); got != "build\n-o\nbin/x\n.\n" {
		t.Fatalf("go called with %q", got)
	}

	// A malformed file fails before go runs, naming the file.
	os.Remove(argsFile)
	if err := os.WriteFile(secrets, []byte(`{"ONECXI_API_KEY": "`+testKey+`",}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err = run([]string{"-secrets", secrets, "-go", fakeGo, "--", "."}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), secrets+": not valid JSON at line 1") || strings.Contains(err.Error(), testKey) {
		t.Fatalf("malformed file: %v", err)
	}
	if _, statErr := os.Stat(argsFile); statErr == nil {
		t.Fatal("go build ran with a malformed secrets file")
	}
}
