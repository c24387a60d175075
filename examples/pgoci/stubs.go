package main

import (
	"context"
	"errors"
)

var errNotYet = errors.New("not available yet")

func notYet(context.Context, *env, []string) error { return errNotYet }

func inspectCommand() command {
	return command{name: "inspect", usage: "inspect REF [--json]", summary: "show an image index, its manifests, labels and referrers", run: notYet}
}
func installCommand() command {
	return command{name: "install", usage: "install REF --root DIR", summary: "install an extension", run: notYet}
}
func uninstallCommand() command {
	return command{name: "uninstall", usage: "uninstall NAME --root DIR", summary: "remove an installed extension", run: notYet}
}
func listCommand() command {
	return command{name: "list", usage: "list --root DIR [--json]", summary: "list installed extensions", run: notYet}
}
func verifyCommand() command {
	return command{name: "verify", usage: "verify --root DIR", summary: "re-hash installed files against the install records", run: notYet}
}
func copyCommand() command {
	return command{name: "copy", usage: "copy SRC DST [--platform ...]", summary: "copy images between registries and OCI layouts", run: notYet}
}
