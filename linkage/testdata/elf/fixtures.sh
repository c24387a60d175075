#!/bin/sh
# Rebuilds the committed ELF fixtures (x86-64, GNU ld). Run from this
# directory: sh fixtures.sh. The outputs are committed; tests never run this.
set -eu
FLAGS="-Os -fPIC -nostdlib -fno-asynchronous-unwind-tables -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noseparate-code -Wl,--hash-style=gnu"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

# libdemo.so.1: defines demo_hello under version DEMO_1.0 (a version script).
printf 'DEMO_1.0 { global: demo_hello; local: *; };\n' >"$t/demo.map"
printf 'int demo_hello(void){return 42;}\n' >"$t/demo.c"
gcc $FLAGS -shared -Wl,-soname,libdemo.so.1 -Wl,--version-script="$t/demo.map" -o lib/libdemo.so.1 "$t/demo.c"
strip --strip-unneeded -R .comment lib/libdemo.so.1

# server: an executable exporting server_func (as postgres exports its API).
printf 'int server_func(int x){return x+1;}\nvoid _start(void){for(;;);}\n' >"$t/server.c"
gcc $FLAGS -pie -rdynamic -Wl,--dynamic-linker=/lib64/ld-linux-x86-64.so.2 -o bin/server "$t/server.c"
strip --strip-unneeded -R .comment bin/server

# good.so: needs libdemo.so.1 through RUNPATH $ORIGIN/../lib, calls
# demo_hello@DEMO_1.0 and server_func, has a weak undefined reference.
printf 'extern int demo_hello(void); extern int server_func(int);\nextern int maybe(void) __attribute__((weak));\nint good(void){return demo_hello()+server_func(1)+(maybe?maybe():0);}\n' >"$t/good.c"
gcc $FLAGS -shared -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib' -Llib -o mod/good.so "$t/good.c" -l:libdemo.so.1
strip --strip-unneeded -R .comment mod/good.so

# nolib.so: needs libabsent.so.7, which does not exist.
printf 'int absent_fn(void); int nolib(void){return absent_fn();}\n' >"$t/absent.c"
gcc $FLAGS -shared -Wl,-soname,libabsent.so.7 -o "$t/libabsent.so.7" "$t/absent.c"
printf 'extern int absent_fn(void); int nolib(void){return absent_fn();}\n' >"$t/nolib.c"
gcc $FLAGS -shared -Wl,--no-as-needed -L"$t" -o mod/nolib.so "$t/nolib.c" -l:libabsent.so.7
strip --strip-unneeded -R .comment mod/nolib.so

# nosym.so: calls server_gone, which neither the server nor libdemo defines.
printf 'extern int server_gone(void); extern int demo_hello(void); int nosym(void){return server_gone()+demo_hello();}\n' >"$t/nosym.c"
gcc $FLAGS -shared -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib' -Wl,--allow-shlib-undefined -Llib -o mod/nosym.so "$t/nosym.c" -l:libdemo.so.1
strip --strip-unneeded -R .comment mod/nosym.so
