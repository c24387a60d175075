package sqlstatus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"pgoci/extension"
)

// applicationName is the application_name of the sessions Check opens,
// unless the connection string sets one.
const applicationName = "pgoci status"

// cleanupTimeout bounds the rollback and close of a session once its
// checks are done, even when ctx was cancelled.
const cleanupTimeout = 5 * time.Second

// CheckDSN connects to the database the connection string dsn names (a
// libpq keyword/value string or a postgres:// URL, read by pgx: PG*
// environment variables, ~/.pgpass and the service file fill what it
// leaves out; "" takes everything from them, as psql does) and runs
// [Check] on that connection, which it then closes.
//
// Every session CheckDSN and Check open starts with
// default_transaction_read_only on and application_name "pgoci status"
// (unless dsn sets one).
func CheckDSN(ctx context.Context, dsn string, installed []extension.Installed, opts Options) (Report, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return Report{}, fmt.Errorf("%w: %w", ErrDSN, err)
	}
	readOnlyConfig(cfg)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return Report{}, fmt.Errorf("%w: %w", ErrConnect, err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		conn.Close(cctx)
	}()
	return Check(ctx, conn, installed, opts)
}

// CheckRoot is [Check] for the packages installed at root: the SQL-side
// status of an install location, Root.Status in words. Damaged install
// records (an *extension.DamagedError) leave their packages out of the
// check, with a warning in the report.
func CheckRoot(ctx context.Context, conn *pgx.Conn, root *extension.Root, opts Options) (Report, error) {
	installed, err := root.List(ctx)
	if err != nil && !errors.Is(err, extension.ErrState) {
		return Report{}, err
	}
	rep, cerr := Check(ctx, conn, installed, opts)
	if err != nil {
		rep.Warnings = append(rep.Warnings, err.Error()+": their packages are left out of the check")
	}
	return rep, cerr
}

// Check compares the server conn is connected to with installed, the
// records of the packages installed where that server loads extensions
// from (extension.Root.List), and reports what differs (see [Kind]) with the
// statements that fix it. It executes none of them, and changes nothing:
// every query runs in a read-only transaction, rolled back.
//
// The server-wide check (shared_preload_libraries) and the listing of the
// databases run on conn, which must not be inside a transaction
// (ErrBusy); conn's own database is checked on conn, every other one on a
// connection of its own, opened with conn's configuration (host, user,
// password, TLS) and its database replaced, and closed before the next
// one is opened. A database that cannot be checked is listed in
// [Report].Unchecked; the error is for what makes the whole report
// impossible (ErrQuery, ErrTooManyDatabases, ctx ending); the report
// that comes with it holds what was found before, and is incomplete.
//
// With a connection string naming several hosts, each connection may
// reach another of them: name one host.
func Check(ctx context.Context, conn *pgx.Conn, installed []extension.Installed, opts Options) (Report, error) {
	if conn == nil || conn.IsClosed() {
		return Report{}, fmt.Errorf("%w: connection closed", ErrConnect)
	}
	if st := conn.PgConn().TxStatus(); st != 'I' {
		return Report{}, ErrBusy
	}
	srv := &pgxServer{first: conn, cfg: conn.Config()}
	readOnlyConfig(srv.cfg)
	err := readOnly(ctx, conn, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT current_database()").Scan(&srv.firstDB)
	})
	if err != nil {
		return Report{}, fmt.Errorf("%w: current_database(): %w", ErrQuery, err)
	}
	return check(ctx, srv, installed, opts)
}

// readOnlyConfig makes the sessions of cfg read-only and names them.
func readOnlyConfig(cfg *pgx.ConnConfig) {
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = applicationName
	}
}

// readOnly runs fn in a read-only transaction on conn and rolls it back.
func readOnly(ctx context.Context, conn *pgx.Conn, fn func(pgx.Tx) error) error {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	err = fn(tx)
	return errors.Join(err, rollback(ctx, tx))
}

// rollback ends tx, even when ctx has ended.
func rollback(ctx context.Context, tx pgx.Tx) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	return tx.Rollback(cctx)
}

// pgxServer is the server seen through pgx.
type pgxServer struct {
	first   *pgx.Conn
	firstDB string
	// cfg is the first connection's configuration, read-only, for the
	// other databases.
	cfg *pgx.ConnConfig
}

func (s *pgxServer) preload(ctx context.Context) (preloadState, error) {
	var ps preloadState
	err := readOnly(ctx, s.first, func(tx pgx.Tx) error {
		var source string
		err := tx.QueryRow(ctx, "SELECT setting, source FROM pg_settings WHERE name = 'shared_preload_libraries'").Scan(&ps.running, &source)
		if errors.Is(err, pgx.ErrNoRows) {
			// pg_settings hides it from roles that may not read it.
			return nil
		}
		if err != nil {
			return err
		}
		ps.readable = true
		if source != "default" && source != "configuration file" {
			// Set on the command line: the files do not say what the
			// next start reads.
			return nil
		}
		// pg_file_settings needs superuser or pg_read_all_settings: a
		// refusal leaves the files' value unknown, not the check failed.
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		var file *string
		err = sp.QueryRow(ctx, "SELECT setting FROM pg_file_settings WHERE name = 'shared_preload_libraries' ORDER BY seqno DESC LIMIT 1").Scan(&file)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			ps.fileKnown = true // the default, ""
		case err == nil && file != nil:
			ps.file, ps.fileKnown = *file, true
		}
		return sp.Rollback(ctx)
	})
	return ps, err
}

func (s *pgxServer) databases(ctx context.Context, limit int) ([]listedDatabase, error) {
	var out []listedDatabase
	err := readOnly(ctx, s.first, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT datname, has_database_privilege(oid, 'CONNECT')
			FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname LIMIT $1`, limit+1)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (listedDatabase, error) {
			var d listedDatabase
			err := row.Scan(&d.name, &d.connect)
			return d, err
		})
		return err
	})
	return out, err
}

func (s *pgxServer) open(ctx context.Context, name string) (database, error) {
	conn, owned := s.first, false
	if name != s.firstDB {
		cfg := s.cfg.Copy()
		cfg.Database = name
		var err error
		if conn, err = pgx.ConnectConfig(ctx, cfg); err != nil {
			return nil, err
		}
		owned = true
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		if owned {
			closeConn(ctx, conn)
		}
		return nil, err
	}
	return &pgxDatabase{conn: conn, tx: tx, owned: owned}, nil
}

// closeConn closes conn, even when ctx has ended.
func closeConn(ctx context.Context, conn *pgx.Conn) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	conn.Close(cctx)
}

// pgxDatabase is a read-only transaction on one database.
type pgxDatabase struct {
	conn  *pgx.Conn
	tx    pgx.Tx
	owned bool // conn was opened for this database: close it
}

func (d *pgxDatabase) extensions(ctx context.Context) ([]created, error) {
	rows, err := d.tx.Query(ctx, `SELECT e.extname, e.extversion, a.name IS NOT NULL, coalesce(a.default_version, '')
		FROM pg_extension e LEFT JOIN pg_available_extensions a ON a.name = e.extname
		ORDER BY e.extname`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (created, error) {
		var c created
		err := row.Scan(&c.name, &c.version, &c.available, &c.defaultVersion)
		return c, err
	})
}

func (d *pgxDatabase) updatePath(ctx context.Context, ext, from, to string) (string, error) {
	// In a savepoint: a control file the server cannot read fails the
	// query, and the transaction must go on for the other extensions.
	sp, err := d.tx.Begin(ctx)
	if err != nil {
		return "", err
	}
	var path string
	err = sp.QueryRow(ctx, "SELECT coalesce(path, '') FROM pg_extension_update_paths($1) WHERE source = $2 AND target = $3",
		ext, from, to).Scan(&path)
	if errors.Is(err, pgx.ErrNoRows) {
		// The target version is not one the server knows of.
		err = nil
	}
	return path, errors.Join(err, sp.Rollback(ctx))
}

func (d *pgxDatabase) close(ctx context.Context) error {
	err := rollback(ctx, d.tx)
	if d.owned {
		closeConn(ctx, d.conn)
	}
	return err
}
