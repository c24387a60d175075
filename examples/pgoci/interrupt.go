package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// interrupts turns the first SIGINT or SIGTERM into a cancelled context,
// so that the SDK stops and removes what it staged, and the second into
// an immediate exit, for when that cleanup is slow or stuck.
type interrupts struct {
	signals chan os.Signal
	// status is 128+N once signal N arrived, else 0.
	status atomic.Int32
}

// watchInterrupts starts watching; the context ends at the first signal.
func watchInterrupts(stderr io.Writer) (context.Context, *interrupts) {
	ctx, cancel := context.WithCancel(context.Background())
	i := &interrupts{signals: make(chan os.Signal, 2)}
	signal.Notify(i.signals, os.Interrupt, syscall.SIGTERM)
	go i.loop(stderr, cancel)
	return ctx, i
}

func (i *interrupts) loop(stderr io.Writer, cancel context.CancelFunc) {
	defer cancel()
	sig, ok := <-i.signals
	if !ok {
		return
	}
	i.status.Store(int32(exitStatus(sig)))
	fmt.Fprintln(stderr, "pgoci: interrupted, cleaning up (interrupt again to exit at once)")
	cancel()
	if sig, ok = <-i.signals; ok {
		os.Exit(exitStatus(sig))
	}
}

// stop stops watching and returns the exit status the first signal calls
// for, 0 when none arrived.
func (i *interrupts) stop() int {
	signal.Stop(i.signals)
	close(i.signals) // no send follows signal.Stop
	return int(i.status.Load())
}

// exitStatus is the status a shell reports for a process killed by sig.
func exitStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}
