# Sourced by .ci/e2e.sh after postgres.sh (it needs PG_CACHE_DIR and
# apt_install): fetches every postgresql-15-* package of the machine's apt
# sources, as it ships, for e2e/debian_test.go.
#
#   install_debian  downloads the .debs (all but -doc) once into
#                   $PG_CACHE_DIR/debian/set/debs, extracts one tree per
#                   package with dpkg-deb -x into set/trees/<name> (name
#                   without the postgresql-15- prefix, X-scripts merged into
#                   X, usr/share/doc removed except the copyright files),
#                   writes set/versions ("package version" lines) and
#                   set/os-deps, installs those OS dependencies and exports
#                   PGOCI_E2E_DEBIAN=$PG_CACHE_DIR/debian.
#
# Nothing is pinned: the set is whatever the apt sources offer, and a set
# whose recorded versions no longer match the candidates is fetched anew.
# The test keeps its own state next to set/ (the pgoci install records and
# the list of packages its apt phase installed), outside the directory a
# refetch replaces, so that a killed run is cleaned up by the next one.

DEBIAN_PG_MAJOR=15

install_debian() {
  local dir=$PG_CACHE_DIR/debian want
  want=$(debian_candidates)
  [ -n "$want" ] || { echo "apt offers no postgresql-$DEBIAN_PG_MAJOR-* package" >&2; return 1; }
  if [ ! -e "$dir/set/.complete" ] || [ "$(cat "$dir/set/versions")" != "$want" ]; then
    fetch_debian_set "$dir" "$want"
  fi
  install_debian_deps "$dir/set/os-deps"
  export PGOCI_E2E_DEBIAN=$dir
  echo "debian: $(wc -l <"$dir/set/versions") postgresql-$DEBIAN_PG_MAJOR-* packages, $(find "$dir/set/trees" -mindepth 1 -maxdepth 1 | wc -l) trees in $dir/set"
}

# debian_candidates prints "package version" for every postgresql-15-*
# package apt would install (its candidate), sorted, -doc excluded (no
# extension in it). apt-cache sees nothing before the first apt-get update.
debian_candidates() {
  local names
  names=$(apt-cache pkgnames "postgresql-$DEBIAN_PG_MAJOR-" | grep -v -- '-doc$' | sort || true)
  if [ -z "$names" ]; then
    apt-get update -qq
    names=$(apt-cache pkgnames "postgresql-$DEBIAN_PG_MAJOR-" | grep -v -- '-doc$' | sort)
  fi
  # shellcheck disable=SC2086 # one argument per package name
  apt-cache show --no-all-versions $names | awk '/^Package:/ {p = $2} /^Version:/ {print p, $2}' | sort
}

# fetch_debian_set DIR WANT: downloads the packages of WANT into DIR/set,
# extracted, through DIR/set.tmp: a set is complete only once .complete
# exists, so an interrupted download is redone, never half used.
fetch_debian_set() {
  local dir=$1 want=$2 tmp=$1/set.tmp
  echo "downloading $(echo "$want" | wc -l) Debian postgresql-$DEBIAN_PG_MAJOR-* packages into $dir/set"
  rm -rf "$tmp"
  mkdir -p "$tmp/debs" "$tmp/trees"
  # shellcheck disable=SC2046 # one argument per package=version
  if ! (cd "$tmp/debs" && debian_download $(echo "$want" | tr ' ' '=')); then
    # The lists may name versions the mirror no longer has.
    apt-get update -qq
    want=$(debian_candidates)
    rm -f "$tmp"/debs/*.deb
    # shellcheck disable=SC2046
    (cd "$tmp/debs" && debian_download $(echo "$want" | tr ' ' '='))
  fi
  extract_debian_trees "$tmp/debs" "$tmp/trees"
  debian_os_deps "$tmp/debs" >"$tmp/os-deps"
  for deb in "$tmp"/debs/*.deb; do
    dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb"
  done | sort >"$tmp/versions"
  [ "$(cat "$tmp/versions")" = "$want" ] ||
    { echo "downloaded packages differ from the candidates:"; diff <(echo "$want") "$tmp/versions"; return 1; } >&2
  # The tests read the trees and .debs as the unprivileged server user too.
  chmod -R a+rX "$tmp"
  touch "$tmp/.complete"
  rm -rf "$dir/set"
  mv "$tmp" "$dir/set"
}

# debian_download PKG=VERSION...: apt-get download into the current
# directory (as root apt would drop to _apt, which cannot write here).
debian_download() {
  apt-get download -qq -o APT::Sandbox::User=root "$@"
}

# extract_debian_trees DEBS TREES: one tree per package, as dpkg would
# install it, minus the documentation a user does not need (the copyright
# files stay: they are the licenses pgoci packs).
extract_debian_trees() {
  local debs=$1 trees=$2 deb pkg name
  for deb in "$debs"/*.deb; do
    pkg=$(dpkg-deb -f "$deb" Package)
    name=${pkg#"postgresql-$DEBIAN_PG_MAJOR-"}
    # postgis-3-scripts holds the SQL scripts of postgis-3: one tree.
    if [[ $name == *-scripts ]] && compgen -G "$debs/postgresql-$DEBIAN_PG_MAJOR-${name%-scripts}_*.deb" >/dev/null; then
      name=${name%-scripts}
    fi
    dpkg-deb -x "$deb" "$trees/$name"
  done
  for tree in "$trees"/*; do
    [ -d "$tree/usr/share/doc" ] || continue
    find "$tree/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$tree/usr/share/doc" -mindepth 1 -type d -empty -delete
  done
}

# debian_os_deps DEBS prints what the packages depend on, one name a line,
# as apt-get install of the packages would install it, minus the
# PostgreSQL packages (the server is installed already; the extension
# packages are what the test installs, with pgoci and then with apt). An
# alternative takes its first choice, as apt does; perl:any is perl.
debian_os_deps() {
  local deb
  for deb in "$1"/*.deb; do dpkg-deb -f "$deb" Depends; echo; done |
    tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/:any//; s/[[:space:]]//g' |
    grep -v -e '^$' -e '^postgresql-' | sort -u
}

# install_debian_deps LIST: apt-installs the packages named in the file
# LIST that are not installed (one dpkg-query for all: warm runs are
# fast). Like apt_install, but sparing dpkg an fsync per file: there are
# some 70 packages, R and GDAL among them, on a fresh machine.
install_debian_deps() {
  local missing
  # shellcheck disable=SC2046 # one argument per package
  missing=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $(cat "$1") 2>/dev/null |
    awk '$1 == "ii" {print $2}' | sort | comm -13 - "$1")
  [ -n "$missing" ] || return 0
  echo "installing the OS dependencies of the Debian packages: $(echo "$missing" | paste -sd " ")"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io $missing >/dev/null
}
