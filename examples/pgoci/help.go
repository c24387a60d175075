package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

func helpCommand() command {
	return command{
		name:    "help",
		usage:   []string{"[COMMAND]"},
		summary: "print the list of commands, or one command's usage and flags",
		setup: noFlags(func(_ context.Context, e *env, args []string) error {
			switch len(args) {
			case 0:
				printHelp(e.stdout)
				return nil
			case 1:
				c, ok := lookup(args[0])
				if !ok {
					return usagef("unknown command %q", args[0])
				}
				writeCommandHelp(e.stdout, c)
				return nil
			}
			return usagef("want at most one command name, got %d", len(args))
		}),
	}
}

// printHelp writes the list of commands and the conventions they share.
func printHelp(w io.Writer) {
	fmt.Fprint(w, "pgoci: PostgreSQL extensions as OCI images\n\n"+
		"usage: pgoci [--plain-http] [--mirror REGISTRY=MIRROR]... COMMAND [flags] [arguments]\n\nCommands:\n")
	for _, c := range commands() {
		lines := wrapLines(c.summary, 80-13)
		fmt.Fprintf(w, "  %-10s %s\n", c.name, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%13s%s\n", "", l)
		}
	}
	fmt.Fprintln(w)
	wrap(w, helpFooter, "")
}

const helpFooter = `REF is a registry reference, host[:port]/repo[:tag][@digest], or oci:DIR[:tag|@digest] for an OCI image layout directory.

Results go to stdout; progress, notes and errors go to stderr. Flags may come before or after the arguments; "--" ends the flags, so that an argument may start with a dash. Registry credentials come from the Docker config file ($DOCKER_CONFIG or ~/.docker/config.json) and its credential helpers; a mirror's (--mirror) are looked up for the mirror's own host.

Exit status: 0 success, 1 failure (one line on stderr), 2 usage error, 130 interrupted. The first Ctrl-C stops the command and lets it clean up; a second one exits at once.

Run "pgoci help COMMAND" or "pgoci COMMAND --help" for a command's flags.`

// writeUsage writes the command's argument forms.
func writeUsage(w io.Writer, c command) {
	for i, u := range c.usage {
		prefix := "usage: "
		if i > 0 {
			prefix = "       "
		}
		fmt.Fprintln(w, strings.TrimRight(prefix+"pgoci "+c.name+" "+u, " "))
	}
}

// writeCommandHelp writes one command's usage, description and flags, the
// flags read from the FlagSet the command parses with.
func writeCommandHelp(w io.Writer, c command) {
	writeUsage(w, c)
	fmt.Fprintln(w)
	wrap(w, c.summary, "")
	if c.details != "" {
		fmt.Fprintln(w)
		wrap(w, c.details, "")
	}
	fs, _ := c.bind()
	fmt.Fprintln(w, "\nFlags:")
	writeFlags(w, fs)
	fmt.Fprint(w, globalFlagsHelp)
}

const globalFlagsHelp = `  -h, --help
      print this help
  --plain-http
      talk HTTP, not HTTPS, to registries (loopback registries always use
      HTTP); accepted by every command
  --mirror REGISTRY=MIRROR[,tags]
      read REGISTRY (host[:port], as references name it) through MIRROR
      ([http://]host[:port][/namespace]) first; repeat it for several
      mirrors, tried in order, then REGISTRY. Content is read from the
      mirror by digest and checked against it; tags are resolved by
      REGISTRY unless ",tags" trusts the mirror with them. A mirror that is
      down, lacks the content or serves bad content is passed over, with a
      note on stderr. Pushes never go to mirrors; accepted by every command
`

// writeFlags lists the flags of fs, in name order, each with its value
// name, its sentence and its default when that is not the zero value.
func writeFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if name != "" {
			name = " " + name
		}
		if !isZeroDefault(f) {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  --%s%s\n", f.Name, name)
		wrap(w, usage, "      ")
	})
}

func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false":
		return true
	}
	return false
}

// wrap writes text at 80 columns, each line after indent. Paragraphs are
// separated by blank lines; a paragraph whose lines start with a space is
// written as it is (commands, tables).
func wrap(w io.Writer, text, indent string) {
	for i, para := range strings.Split(text, "\n\n") {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if strings.HasPrefix(para, " ") {
			fmt.Fprintln(w, para)
			continue
		}
		for _, l := range wrapLines(para, 80-len(indent)) {
			fmt.Fprintln(w, indent+l)
		}
	}
}

// wrapLines breaks text into lines of at most width columns, at spaces
// (a longer word gets a line of its own).
func wrapLines(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) > width:
			lines = append(lines, line)
			line = word
		default:
			line += " " + word
		}
	}
	return append(lines, line)
}
