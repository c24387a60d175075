package sqlstatus

import "errors"

// Errors returned by [Check] and [CheckDSN]; test with [errors.Is]. A
// database that could not be checked is not an error of the call: it is
// listed in [Report].Unchecked.
var (
	// ErrDSN: the connection string does not parse (the message shows it
	// with the password redacted).
	ErrDSN = errors.New("sqlstatus: invalid connection string")
	// ErrConnect: the first connection, to the database the connection
	// string names, failed.
	ErrConnect = errors.New("sqlstatus: cannot connect")
	// ErrBusy: the connection given to [Check] is inside a transaction;
	// the checks need one of their own, read-only.
	ErrBusy = errors.New("sqlstatus: connection inside a transaction")
	// ErrTooManyDatabases: the server has more databases to check than
	// [Options].MaxDatabases; name the ones to check in
	// [Options].Databases, or raise the limit.
	ErrTooManyDatabases = errors.New("sqlstatus: too many databases")
	// ErrQuery: a server-wide query on the first connection failed (the
	// databases list, the server's settings).
	ErrQuery = errors.New("sqlstatus: query failed")
)
