package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errHelp is what parseArgs returns for -h or --help: the caller prints
// the command's help on stdout and exits 0.
var errHelp = errors.New("help requested")

// parseArgs parses flags that may come before, between or after the
// positional arguments, and returns the positional ones. Everything after
// the first "--" that is not a flag's value is positional, even when it
// starts with a dash.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	args, rest := splitAtDashDash(fs, args)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(positional, rest...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// splitAtDashDash splits args at the "--" that ends the flags, dropping
// it. fs.Parse alone cannot tell: parseArgs calls it again after each
// positional argument, which would parse what follows "--" as flags.
// A "--" that is the value of a flag ("--platform --") does not count.
func splitAtDashDash(fs *flag.FlagSet, args []string) (flags, rest []string) {
	for i := 0; i < len(args); i++ {
		if args[i] == "--" {
			return args[:i], args[i+1:]
		}
		if takesValue(fs, args[i]) {
			i++
		}
	}
	return args, nil
}

// takesValue reports whether arg is a flag of fs whose value is the next
// argument: a known non-boolean flag written without "=".
func takesValue(fs *flag.FlagSet, arg string) bool {
	if len(arg) < 2 || arg[0] != '-' {
		return false
	}
	name := strings.TrimPrefix(arg[1:], "-")
	if strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

// wantArgs checks the number of positional arguments.
func wantArgs(args []string, names ...string) error {
	if len(args) != len(names) {
		return usagef("want %d argument(s) (%s), got %d", len(names), strings.Join(names, " "), len(args))
	}
	return nil
}

// extractBool removes a global boolean flag (--name or -name) from the
// arguments before "--".
func extractBool(args []string, name string) ([]string, bool) {
	out, found := args[:0:0], false
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...), found
		}
		if a == "--"+name || a == "-"+name {
			found = true
			continue
		}
		out = append(out, a)
	}
	return out, found
}

// extractValues removes every occurrence of a global flag that takes a
// value (--name VALUE, --name=VALUE, or with one dash) from the arguments
// before "--", and returns the values in order.
func extractValues(args []string, name string) ([]string, []string, error) {
	out, values := args[:0:0], []string(nil)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...), values, nil
		}
		flagName, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || flagName != name {
			out = append(out, a)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return nil, nil, usagef("flag needs an argument: --%s", name)
			}
			i++
			value = args[i]
		}
		values = append(values, value)
	}
	return out, values, nil
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// deprecatedFlag is an old spelling of a flag: it sets the same value, and
// the command warns when it is used (see warnDeprecated).
type deprecatedFlag struct {
	flag.Value
	replacement string
}

// deprecate registers old as a deprecated spelling of the registered flag
// replacement, kept for one release so that scripts have time to move.
// The replacement must take a value: a boolean flag would not parse as
// one under its old name.
func deprecate(fs *flag.FlagSet, old, replacement string) {
	f := fs.Lookup(replacement)
	arg, _ := flag.UnquoteUsage(f)
	fs.Var(&deprecatedFlag{Value: f.Value, replacement: replacement}, old,
		fmt.Sprintf("deprecated spelling of --%s `%s`, removed in the next release", replacement, arg))
}

// warnDeprecated prints one line on w per deprecated flag that was set.
func warnDeprecated(fs *flag.FlagSet, w io.Writer) {
	fs.Visit(func(f *flag.Flag) {
		if d, ok := f.Value.(*deprecatedFlag); ok {
			fmt.Fprintf(w, "pgoci %s: warning: --%s is deprecated and will be removed in the next release; use --%s\n",
				fs.Name(), f.Name, d.replacement)
		}
	})
}
