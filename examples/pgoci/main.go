// Command pgoci packs, pushes, resolves, installs and removes PostgreSQL
// extensions shipped as OCI images. It is a thin program over the pgoci
// SDK (pgoci/extension, pgoci/resolve, pgoci/unpack); run `pgoci help` for
// the commands.
//
// Exit status: 0 on success, 1 on failure (one line on stderr), 2 on a
// usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what a command runs with: its output streams and the global flags.
type env struct {
	stdout, stderr io.Writer
	plainHTTP      bool
	// progress is true when stderr is a terminal: long transfers then show
	// a progress line.
	progress bool
}

// command is one subcommand: its usage line, a summary, and the function
// that runs it with the arguments after its name.
type command struct {
	name, usage, summary string
	run                  func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		packCommand(), inspectCommand(), resolveCommand(), installCommand(), uninstallCommand(),
		listCommand(), verifyCommand(), settingsCommand(), copyCommand(), unpackCommand(),
	}
}

// errUsage marks errors that deserve exit status 2.
var errUsage = errors.New("usage")

type usageError struct{ msg string }

func (u usageError) Error() string     { return u.msg }
func (u usageError) Is(err error) bool { return err == errUsage }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, progress: isTerminal(stderr)}
	args, e.plainHTTP = extractBool(args, "plain-http")
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return helpFor(args[1], stdout, stderr)
		}
		printHelp(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "pgoci %s: %v\nusage: pgoci %s\n", c.name, err, c.usage)
			return 2
		default:
			fmt.Fprintf(stderr, "pgoci %s: %v\n", c.name, oneLine(err))
			return 1
		}
	}
	fmt.Fprintf(stderr, "pgoci: unknown command %q (run pgoci help)\n", args[0])
	return 2
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, "pgoci: PostgreSQL extensions as OCI images\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, helpFooter)
}

func helpFor(name string, stdout, stderr io.Writer) int {
	for _, c := range commands() {
		if c.name == name {
			fmt.Fprintf(stdout, "usage: pgoci %s\n\n%s\n", c.usage, c.summary)
			return 0
		}
	}
	fmt.Fprintf(stderr, "pgoci: unknown command %q\n", name)
	return 2
}

const helpFooter = `
REF is a registry reference, host[:port]/repo[:tag][@digest], or
oci:DIR[:tag|@digest] for an OCI image layout directory.

Target flags (resolve, install, unpack):
  --pg-major N         PostgreSQL major of the server
  --platform P         os/arch[/variant] (default: this machine's)
  --libc F-V           C library, e.g. glibc-2.36 or musl-1.2.5
  --distro D-V         distribution, e.g. debian-12
  --pg-config PATH     detect all of the above from this pg_config and this machine
  --policy NAME        strict, default or permissive

Global flags:
  --plain-http         talk HTTP, not HTTPS (loopback registries always do)

Registry credentials come from the Docker config file ($DOCKER_CONFIG or
~/.docker/config.json) and its credential helpers. Flags may come before or
after the positional arguments. Exit status: 0 success, 1 failure, 2 usage.
Run "pgoci help COMMAND" for one command's usage.
`

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
