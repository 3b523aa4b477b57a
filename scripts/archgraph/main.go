// Command archgraph prints the import graph between the module's own
// packages, as `go list` sees it (non-test imports), one line per package:
//
//	server: server/devices server/endpoint server/push server/trunk wire
//
// With -check FILE it instead compares that graph with the block FILE holds
// between the lines "<!-- archgraph -->" and "<!-- /archgraph -->" (the
// README's architecture section) and fails, showing both, when they differ;
// its test runs that check, so the README cannot drift from the code.
// Run `go run ./scripts/archgraph -write README.md` to refresh the block.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

const (
	beginMark = "<!-- archgraph -->"
	endMark   = "<!-- /archgraph -->"
)

func main() {
	check := flag.String("check", "", "compare the graph with the marked block in this `file`")
	write := flag.String("write", "", "replace the marked block in this `file` with the graph")
	dir := flag.String("dir", ".", "the module's root `directory`")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, *dir, *check, *write, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "archgraph:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, check, write string, out io.Writer) error {
	graph, err := importGraph(ctx, dir)
	if err != nil {
		return err
	}
	switch {
	case check != "":
		return checkFile(check, graph)
	case write != "":
		return writeFile(write, graph)
	}
	_, err = io.WriteString(out, graph)
	return err
}

// importGraph runs go list in dir and renders the module-internal imports.
func importGraph(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{.Module.Path}}|{{.ImportPath}}|{{join .Imports \" \"}}", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return render(string(b))
}

// render turns go list's "module|package|imports" lines into the graph.
func render(list string) (string, error) {
	type pkg struct {
		name string
		deps []string
	}
	var pkgs []pkg
	for line := range strings.Lines(list) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			return "", fmt.Errorf("unexpected go list line %.60q", line)
		}
		mod, path := parts[0], parts[1]
		p := pkg{name: short(mod, path)}
		for _, imp := range strings.Fields(parts[2]) {
			if imp == mod || strings.HasPrefix(imp, mod+"/") {
				p.deps = append(p.deps, short(mod, imp))
			}
		}
		sort.Strings(p.deps)
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].name < pkgs[j].name })
	var b strings.Builder
	for _, p := range pkgs {
		b.WriteString(p.name + ":")
		for _, d := range p.deps {
			b.WriteString(" " + d)
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

// short is path relative to the module ("." for the module's root).
func short(mod, path string) string {
	if path == mod {
		return "."
	}
	return strings.TrimPrefix(path, mod+"/")
}

// block finds the marked block of doc: the text between the marker lines
// (without a Markdown code fence around it) and where it starts and ends.
func block(doc string) (body string, start, end int, err error) {
	i := strings.Index(doc, beginMark)
	j := strings.Index(doc, endMark)
	if i < 0 || j < i {
		return "", 0, 0, errors.New("no " + beginMark + " … " + endMark + " block")
	}
	start = i + len(beginMark)
	body = doc[start:j]
	body = strings.TrimPrefix(strings.TrimPrefix(body, "\n"), "```\n")
	body = strings.TrimSuffix(body, "```\n")
	return body, start, j, nil
}

func checkFile(path, graph string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	body, _, _, err := block(string(doc))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if body != graph {
		return fmt.Errorf("%s: the import graph has changed; run `go run ./scripts/archgraph -write %s`.\nREADME:\n%s\ngo list:\n%s", path, path, body, graph)
	}
	return nil
}

func writeFile(path, graph string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	_, start, end, err := block(string(doc))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	out := string(doc[:start]) + "\n```\n" + graph + "```\n" + string(doc[end:])
	return os.WriteFile(path, []byte(out), 0o644)
}
