// Package linkage proves, from the ELF files alone, whether a PostgreSQL
// module will load into a given server, and computes which shared
// libraries to bundle with it.
//
// A module must be married to the server that loads it: same machine and
// C library, every library it links present, every symbol it calls
// defined. Labels can be absent or wrong; the binaries cannot. This
// package reads them (with [debug/elf], no cgo, never running ldd or
// ld.so, which execute code) and models what glibc's dynamic loader does
// when PostgreSQL calls dlopen(path, RTLD_NOW|RTLD_GLOBAL) on a module.
//
// It imports nothing else from pgoci: pack, install, verify, inspect and
// resolve build on it.
//
// # How do I use this package?
//
// At pack time, read every ELF file of the image and derive the facts to
// record as labels:
//
//	o, err := linkage.ReadFile(path)
//	if errors.Is(err, linkage.ErrNotELF) {
//		// not an object (SQL, control file, linker script): skip
//	}
//	err = linkage.CheckPlatform(o, "amd64")  // refuse an arm64 module in an amd64 image
//	warn := linkage.BuildPaths(o)            // RUNPATHs into the build machine
//	// o.GlibcRequired, o.Libc, o.ICUMajor, o.Compiler(), o.Needed ...
//	// over the whole image: RequiredGlibc(objs), ExternalNeeds(objs), ICUMajors(objs)
//
// For pack --bundle-libs, [PlanBundle] lists the libraries to copy into
// system/ (sorted, with their soname links), the needs left to the OS and
// the needs found nowhere:
//
//	plan, err := linkage.PlanBundle(ctx, modules, linkage.BundleOptions{LibPath: libPaths})
//	for _, l := range plan.Libs { copy l.Source to system/l.Name; symlink each of l.Links to l.Name }
//
// At install time, before anything changes, check every module of the
// image as it will be opened, against the server it will be loaded into.
// Overlay maps the future location to the staged files; Global lists the
// modules already loaded with RTLD_GLOBAL (those of required extensions,
// and the package's other modules):
//
//	ck := linkage.NewChecker(linkage.Options{
//		Server:      "/usr/lib/postgresql/18/bin/postgres",
//		LibraryPath: []string{root + "/system"},          // the server's LD_LIBRARY_PATH
//		Overlay:     []linkage.Mapping{{Target: pkgDir, Source: stageDir}},
//		Global:      otherModules,
//	})
//	reports, err := ck.Check(ctx, modules...)    // err: cancelled, server unreadable, limits
//	if err := linkage.Err(reports); err != nil { // each refusal is a *LoadError
//		return err // "dblink.so needs PQcancelStart; libpq.so.5 resolves to ..., which does not define it"
//	}
//	for _, r := range reports { r.Unchecked() ... } // when the server executable is unknown
//
// verify runs the same check on what is installed: a library removed or
// upgraded since install shows as a finding. A [Checker] caches what it
// reads; share a [Cache] between Checkers with [Options.Cache].
//
// # What the check catches
//
// Each [Finding] has a [Kind]; all but [Unchecked] refuse the module:
//
//   - [NotFound]: a DT_NEEDED library is nowhere the loader looks (the
//     finding lists every place, in order).
//   - [BadLibrary]: the loader would stop at a file it cannot load (a
//     linker script or truncated file where a library should be).
//   - [MissingSymbol]: an undefined non-weak symbol that no object in the
//     lookup scope defines (with a compatible version).
//   - [MissingVersion]: a version the module or a library it brings in
//     needs from a file (GLIBC_2.38 from libc.so.6) that the file found
//     does not define: ld.so's "version `X' not found".
//   - [GlibcTooOld]: the highest GLIBC_x.y needed exceeds what the target's
//     libc.so.6 defines.
//   - [WrongPlatform], [WrongLibc], [NotLoadable]: the module is of another
//     class or machine than the server, built for musl on a glibc server
//     (or the reverse), or not a loadable shared object.
//   - [Unchecked]: no object in scope defines a symbol and the server
//     executable is unknown (it may define it: PostgreSQL's API is
//     exported by bin/postgres); reported, never passed silently, never a
//     refusal.
//
// # The loader model
//
// The server process is built first: the server executable, then its
// DT_NEEDED closure breadth first (the global scope), then the
// [Options.Global] modules and their closures. Then each module is
// "dlopened" on its own copy of that state:
//
//   - A needed name matches an object already loaded by SONAME or by a
//     name it was loaded under, before any search; a file found that is
//     already loaded under another name (same device and inode) is reused.
//   - A name with a slash is opened as is. Otherwise glibc's order
//     (elf/dl-load.c): the DT_RPATH of the needing object and of the
//     objects that loaded it, then of the executable (only while the
//     needing object has no DT_RUNPATH; an object with DT_RUNPATH has its
//     DT_RPATH ignored); LD_LIBRARY_PATH ([Options.LibraryPath]); the
//     DT_RUNPATH of the needing object only; /etc/ld.so.cache; the
//     default directories ([DefaultDirs]). DF_1_NODEFLIB skips the last
//     two.
//   - $ORIGIN and ${ORIGIN} are the directory of the object's path as
//     opened (the checked location, which [Options.Overlay] separates
//     from where the file is now; the loader does not resolve symlinks
//     there), $LIB and $PLATFORM what [Options] says; an entry that
//     cannot be expanded is dropped. Relative entries are resolved against
//     [Options.WorkDir], or skipped.
//   - A candidate of another ELF class, byte order or machine is skipped
//     and the search goes on; one that is not ELF stops it ([BadLibrary]).
//   - ld.so.cache entries are used when their flags fit the server's
//     class and machine (x86-64 entries for an x86-64 server...).
//   - Symbol lookup follows elf/dl-lookup.c: the scope is the global scope
//     followed by the module's own closure (RTLD_GLOBAL and RTLD_LOCAL
//     differ in what later modules see, not in what this one finds). A
//     versioned reference name@V binds to a definition of V, or to an
//     unversioned, non-hidden one, in any object of scope (so glibc 2.34's
//     move of libpthread and libdl symbols into libc.so.6 under their old
//     version names passes); an unversioned reference binds to the
//     default or oldest definition, or to the only non-hidden one. A weak
//     undefined symbol may stay undefined. With RTLD_NOW every newly
//     loaded object is relocated, so the libraries the module brings in
//     are checked as well as the module.
//   - Version needs are checked per file as in elf/dl-version.c: the file
//     is matched by name among the loaded objects; a file without version
//     definitions satisfies any need; a weak need only warns.
//   - The loader stops at the first library it cannot find, so when one is
//     missing the symbols are not reported one by one.
//   - musl: when the server (or, without one, the module) is built for musl,
//     the search is LD_LIBRARY_PATH, the RUNPATH (else RPATH) of the
//     needing object and its loaders, then /lib, /usr/local/lib, /usr/lib;
//     libc, libpthread, libm, librt, libdl, libutil and libxnet are the C
//     library itself; symbol versions are ignored.
//
// # What the model does not cover
//
//   - Only dynamic symbols are checked, not relocations: an undefined entry
//     that no relocation uses is still required (linkers emit none such).
//     IFUNC resolvers are not run: an IFUNC definition counts as a
//     definition. Copy relocations, TLS layout, symbol interposition order
//     and initialisers (_PG_init, constructors) are not modelled.
//   - DT_FILTER and DT_AUXILIARY filtees are loaded as extra needs
//     (auxiliary ones optional) and their symbols join the scope; the
//     filter's own definitions are not replaced by the filtee's.
//   - LD_PRELOAD, LD_AUDIT, /etc/ld.so.preload, dlmopen namespaces and
//     secure-execution (setuid) rules are ignored; add a preloaded library
//     to [Options.Global] to count it.
//   - glibc-hwcaps subdirectories (glibc-hwcaps/x86-64-v3/...) and the
//     legacy hwcap and tls subdirectories are not searched, and
//     ld.so.cache entries for them are ignored: the baseline copy is what
//     is checked (every distribution ships one).
//   - The default directories are the union of the Debian multiarch,
//     lib64 and plain lib directories (see [DefaultDirs]): on any one
//     system the directories that do not exist find nothing.
//   - Objects without section headers (sstrip) are read from PT_DYNAMIC:
//     their needs are checked, their symbols reported [Unchecked].
//   - Symlinks are followed by this machine's kernel: with an
//     [Options.Overlay] onto an unpacked system, absolute links point
//     outside it.
//
// # Hostile input
//
// ELF files and ld.so.cache come from images and systems pgoci does not
// trust. [Read] checks the ELF header, the program and section header
// tables against the file size and the Max* limits before [debug/elf]
// parses them, reads the dynamic section, symbol and version tables itself
// with bounds (counts checked against the bytes present, version chains
// moving strictly forward and capped, strings terminated and capped), never
// reads a whole file, and turns any panic inside the parse into an
// [ErrMalformed] error. Non-ELF input is [ErrNotELF]. [ParseLDCache] reads
// at most [MaxLDCacheSize]. Both are fuzzed (FuzzRead, FuzzParseLDCache).
//
// # Cost
//
// On a 2-core machine, checking one module against a server on a new
// Checker takes about 17 ms, most of it reading the server's own libraries
// (ICU, OpenSSL, libxml2, libc); every further module on the same Checker
// adds about 0.4 ms, and about 0.02 ms once its libraries are cached: the
// 88 contrib modules of PostgreSQL 18 check in 34 ms cold
// (BenchmarkCheck*). Unpacking an image costs far more.
package linkage
