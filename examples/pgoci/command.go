package main

import (
	"context"
	"flag"
	"io"
)

// command is one subcommand. Its flags are registered by setup, which
// returns the action bound to them: the same registration serves parsing
// and `pgoci help`, so every flag that exists is documented.
type command struct {
	name string
	// usage lists the argument forms after "pgoci NAME", one a line.
	usage []string
	// summary is one sentence for the command list; details, optional,
	// adds paragraphs to the command's own help.
	summary, details string
	setup            func(fs *flag.FlagSet) action
}

// action runs a command with its positional arguments, once its flags are
// parsed.
type action func(ctx context.Context, e *env, args []string) error

func commands() []command {
	return []command{
		packCommand(), indexCommand(), inspectCommand(), resolveCommand(), installCommand(),
		syncCommand(), uninstallCommand(), pruneCommand(), listCommand(), verifyCommand(), repairCommand(), settingsCommand(), statusCommand(),
		catalogCommand(), cacheCommand(), copyCommand(), signCommand(),
		unpackCommand(), helpCommand(), versionCommand(),
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// bind returns the command's flags, registered on a new FlagSet, and the
// action that reads them.
func (c command) bind() (*flag.FlagSet, action) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs, c.setup(fs)
}

// execute parses args and runs the command.
func (c command) execute(ctx context.Context, e *env, args []string) error {
	fs, act := c.bind()
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	warnDeprecated(fs, e.stderr)
	return act(ctx, e, pos)
}

// noFlags is the setup of a command that takes none.
func noFlags(act action) func(*flag.FlagSet) action {
	return func(*flag.FlagSet) action { return act }
}
