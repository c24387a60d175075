package sqlstatus

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestCheckDSNErrors(t *testing.T) {
	ctx := context.Background()
	_, err := CheckDSN(ctx, "host=localhost port=notaport password=secret", nil, Options{})
	if !errors.Is(err, ErrDSN) {
		t.Errorf("bad port: %v, want ErrDSN", err)
	}
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the password: %v", err)
	}

	// A port nothing listens on: refused at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	_, err = CheckDSN(ctx, "postgres://u:secret@127.0.0.1:"+strconv.Itoa(port)+"/db?sslmode=disable&connect_timeout=5", nil, Options{})
	if !errors.Is(err, ErrConnect) {
		t.Errorf("nothing listening: %v, want ErrConnect", err)
	}
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the password: %v", err)
	}

	if _, err := Check(ctx, nil, nil, Options{}); !errors.Is(err, ErrConnect) {
		t.Errorf("nil connection: %v, want ErrConnect", err)
	}
}

func TestReadOnlyConfig(t *testing.T) {
	cfg, err := pgx.ParseConfig("postgres://u@h/app?application_name=mine&default_transaction_read_only=off")
	if err != nil {
		t.Fatal(err)
	}
	readOnlyConfig(cfg)
	if got := cfg.RuntimeParams["default_transaction_read_only"]; got != "on" {
		t.Errorf("default_transaction_read_only = %q, want on whatever the DSN says", got)
	}
	if got := cfg.RuntimeParams["application_name"]; got != "mine" {
		t.Errorf("application_name = %q, want the DSN's", got)
	}
	cfg, err = pgx.ParseConfig("host=h dbname=app")
	if err != nil {
		t.Fatal(err)
	}
	readOnlyConfig(cfg)
	if got := cfg.RuntimeParams["application_name"]; got != applicationName {
		t.Errorf("application_name = %q, want %q", got, applicationName)
	}
	// Another database: the same configuration, the name replaced.
	other := cfg.Copy()
	other.Database = "other"
	if cfg.Database != "app" || other.Host != "h" || other.RuntimeParams["default_transaction_read_only"] != "on" {
		t.Errorf("copy: %s/%s params %v", other.Host, other.Database, other.RuntimeParams)
	}
}
