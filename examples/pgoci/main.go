// Command pgoci packs, pushes, resolves, installs and removes PostgreSQL
// extensions shipped as OCI images. It is a thin program over the pgoci
// SDK (pgoci/extension, pgoci/resolve, pgoci/unpack); run `pgoci help` for
// the commands.
//
// Results go to stdout, diagnostics and progress to stderr. Exit status:
// 0 on success, 1 on failure (one line on stderr), 2 on a usage error,
// 128+N when stopped by signal N (130 for Ctrl-C).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"pgoci/resolve"
)

func main() {
	ctx, intr := watchInterrupts(os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if status := intr.stop(); status != 0 && code != 0 {
		// The command failed because it was interrupted: say so the way
		// a shell does.
		code = status
	}
	os.Exit(code)
}

// env is what a command runs with: its output streams and the global flags.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	plainHTTP      bool
	// mirrors are the global --mirror flags, per registry host.
	mirrors map[string][]resolve.Mirror
	// command is the name of the command running, for notes on stderr.
	command string
	// progress is true when stderr is a terminal: long transfers then show
	// a progress line.
	progress bool
}

// errUsage marks errors that deserve exit status 2.
var errUsage = errors.New("usage")

type usageError struct{ msg string }

func (u usageError) Error() string     { return u.msg }
func (u usageError) Is(err error) bool { return err == errUsage }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdin: os.Stdin, stdout: stdout, stderr: stderr, progress: isTerminal(stderr)}
	args, e.plainHTTP = extractBool(args, "plain-http")
	args, mirrors, mirrorErr := extractValues(args, "mirror")
	if len(args) == 0 {
		// Not what was meant: the help goes where errors go.
		printHelp(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	case "-version", "--version":
		name = "version"
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "pgoci: unknown command %q (run pgoci help)\n", name)
		return 2
	}
	e.command = c.name
	if mirrorErr == nil {
		e.mirrors, mirrorErr = parseMirrors(mirrors)
	}
	if mirrorErr != nil {
		return report(c, mirrorErr, stdout, stderr)
	}
	return report(c, c.execute(ctx, e, args[1:]), stdout, stderr)
}

// parseMirrors reads the --mirror flags, REGISTRY=MIRROR[,tags] each,
// into RemoteOptions.Mirrors: a registry's mirrors are tried in the
// order given.
func parseMirrors(flags []string) (map[string][]resolve.Mirror, error) {
	var out map[string][]resolve.Mirror
	for _, f := range flags {
		host, m, err := resolve.ParseMirror(f)
		if err != nil {
			return nil, usagef("--mirror: %v", err)
		}
		if out == nil {
			out = map[string][]resolve.Mirror{}
		}
		out[host] = append(out[host], m)
	}
	return out, nil
}

// report turns a command's error into its exit status and message.
func report(c command, err error, stdout, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		writeCommandHelp(stdout, c)
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "pgoci %s: %v\n", c.name, err)
		writeUsage(stderr, c)
		fmt.Fprintf(stderr, "Run \"pgoci help %s\" for the flags.\n", c.name)
		return 2
	default:
		fmt.Fprintf(stderr, "pgoci %s: %v\n", c.name, oneLine(err))
		return 1
	}
}

// oneLine keeps an error message on one line for stderr.
func oneLine(err error) string {
	b := []byte(err.Error())
	for i, c := range b {
		if c == '\n' {
			b[i] = ';'
		}
	}
	return string(b)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
