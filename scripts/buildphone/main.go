// Command buildphone runs `go build` for the desktop app with its build-time
// defaults (server URL, account, API key) read from a git-ignored secrets
// file, and prints the command with the key redacted. The Makefile runs it
// for bin/onecxi-phone, the Windows .exe and the Linux package:
//
//	go run ./scripts/buildphone -secrets secrets.local.json [-ldflags '-s -w'] -- -trimpath -o bin/onecxi-phone .
//
// The secrets file has the shape of secrets.template.json:
//
//	{"ONECXI_SERVER_URL": "https://…", "ONECXI_ACCOUNT": "…", "ONECXI_API_KEY": "…"}
//
// When the file does not exist the build has no baked-in defaults (the app
// then runs its demo server unless told otherwise at run time). A file that
// is not valid JSON, has unknown keys, still holds the template's
// placeholders, or holds a value the app would reject fails the build with a
// message naming the file and the problem, never the key.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"strings"
)

// pkgPath is the package holding the build-time variables (app/config.go).
const pkgPath = "github.com/onecxi/phone/app"

// Secrets is the secrets file. Field names are the environment variables the
// app reads for the same settings.
type Secrets struct {
	ServerURL string `json:"ONECXI_SERVER_URL"`
	Account   string `json:"ONECXI_ACCOUNT"`
	APIKey    string `json:"ONECXI_API_KEY"`
}

// placeholders are the template's sample values: a file still holding one
// was copied and not filled in.
var placeholders = map[string]bool{
	"replace-with-your-api-key":   true,
	"https://your-server.example": true,
}

// ParseSecrets decodes and checks a secrets file's content.
func ParseSecrets(data []byte) (Secrets, error) {
	var s Secrets
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, describeJSONError(data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return s, errors.New("extra data after the JSON object")
	}
	for name, v := range map[string]string{"ONECXI_SERVER_URL": s.ServerURL, "ONECXI_ACCOUNT": s.Account, "ONECXI_API_KEY": s.APIKey} {
		if placeholders[v] {
			return s, fmt.Errorf("%s still holds the template's placeholder; fill in the real value", name)
		}
		if strings.ContainsAny(v, " \t\r\n'\"\\`") {
			return s, fmt.Errorf("%s contains a space, quote or backslash, which no server URL, account name or API key has", name)
		}
	}
	if s.ServerURL == "" && (s.Account != "" || s.APIKey != "") {
		return s, errors.New("ONECXI_ACCOUNT or ONECXI_API_KEY is set without ONECXI_SERVER_URL; the app would ignore them and run its demo server")
	}
	if s.ServerURL != "" {
		u, err := url.Parse(s.ServerURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return s, errors.New("ONECXI_SERVER_URL must be an http:// or https:// URL with a host")
		}
		if s.Account == "" {
			return s, errors.New("ONECXI_SERVER_URL is set but ONECXI_ACCOUNT is empty; the app needs both")
		}
	}
	return s, nil
}

// describeJSONError says where a decoding error is, by line and column,
// without quoting the file (which holds the key).
func describeJSONError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return fmt.Errorf("not valid JSON at line %d, column %d: %v", line, col, syn)
	case errors.As(err, &typ):
		return fmt.Errorf("%s must be a string", typ.Field)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("empty or truncated; expected a JSON object like secrets.template.json")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("unknown key %s; expected ONECXI_SERVER_URL, ONECXI_ACCOUNT and ONECXI_API_KEY", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return fmt.Errorf("not valid JSON: %v", err)
}

func position(data []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset-1 && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// LinkerFlags returns the -X flags for the set values, and the same with the
// API key redacted to its last four characters, for printing.
func LinkerFlags(s Secrets) (real, shown []string) {
	add := func(name, v, display string) {
		if v != "" {
			real = append(real, "-X", pkgPath+"."+name+"="+v)
			shown = append(shown, "-X", pkgPath+"."+name+"="+display)
		}
	}
	add("buildServerURL", s.ServerURL, s.ServerURL)
	add("buildAccount", s.Account, s.Account)
	add("buildAPIKey", s.APIKey, Redact(s.APIKey))
	return real, shown
}

// Redact shows at most the last four characters of a secret, and none of a
// short one.
func Redact(v string) string {
	if len(v) < 12 {
		return "<redacted>"
	}
	return "…" + v[len(v)-4:]
}

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.ExitCode())
	case err != nil:
		fmt.Fprintln(os.Stderr, "buildphone:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("buildphone", flag.ContinueOnError)
	fset.SetOutput(stderr)
	secrets := fset.String("secrets", "secrets.local.json", "secrets `file`; a missing file means no baked-in defaults")
	extra := fset.String("ldflags", "", "more linker flags (e.g. -s -w, -H=windowsgui)")
	goCmd := fset.String("go", "go", "the go command")
	check := fset.Bool("check", false, "only check the secrets file and print the redacted flags")
	var env envFlag
	fset.Var(&env, "env", "`NAME=value` for go build's environment (repeatable), e.g. GOOS=windows")
	if err := fset.Parse(args); err != nil {
		return err
	}
	var s Secrets
	data, err := os.ReadFile(*secrets)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(stdout, "(%s not found: no build-time server, account or key)\n", *secrets)
		if *check {
			return nil
		}
	case err != nil:
		return err
	default:
		if s, err = ParseSecrets(data); err != nil {
			return fmt.Errorf("%s: %w (see secrets.template.json)", *secrets, err)
		}
	}
	real, shown := LinkerFlags(s)
	if *extra != "" {
		real = append(strings.Fields(*extra), real...)
		shown = append(strings.Fields(*extra), shown...)
	}
	if *check {
		fmt.Fprintf(stdout, "%s: ok: -ldflags %q\n", *secrets, strings.Join(shown, " "))
		return nil
	}
	buildArgs := []string{"build"}
	if len(real) > 0 {
		// go build splits -ldflags on spaces; values were checked to have none.
		buildArgs = append(buildArgs, "-ldflags", strings.Join(real, " "))
	}
	buildArgs = append(buildArgs, fset.Args()...)
	var printed []string
	for _, e := range env {
		if name, v, _ := strings.Cut(e, "="); strings.ContainsAny(v, " \t") {
			e = name + "='" + v + "'"
		}
		printed = append(printed, e)
	}
	printed = append(printed, *goCmd, "build")
	if len(shown) > 0 {
		printed = append(printed, "-ldflags", "'"+strings.Join(shown, " ")+"'")
	}
	printed = append(printed, fset.Args()...)
	fmt.Fprintln(stdout, strings.Join(printed, " "))
	cmd := exec.Command(*goCmd, buildArgs...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd.Run()
}

// envFlag collects -env NAME=value settings. They apply to go build only, not
// to this program (which `go run` built for the host).
type envFlag []string

func (e *envFlag) String() string { return strings.Join(*e, " ") }

func (e *envFlag) Set(v string) error {
	if name, _, ok := strings.Cut(v, "="); !ok || name == "" {
		return fmt.Errorf("want NAME=value, got %q", v)
	}
	*e = append(*e, v)
	return nil
}
