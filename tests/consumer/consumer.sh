#!/usr/bin/env bash
# Consumer tests: fwresume used the way another project uses it.
#
#   consumer.sh find_package SRC_ROOT   install core/, find_package it
#   consumer.sh pkgconfig    SRC_ROOT   install core/, a Makefile + pkg-config
#   consumer.sh subdir       SRC_ROOT [FOTASIM_BUILD]
#                                       add_subdirectory(core): no mutants
#   consumer.sh cross        SRC_ROOT   cross-build core/ for Cortex-M4,
#                                       install, link a firmware from the
#                                       installed files alone
#
# Each mode builds in a fresh temporary directory, runs the resume round trip
# (roundtrip.c) where it can run, and also shows its own check failing where
# the check is not a plain build (a wrong version, mutants present).
set -euo pipefail
mode=$1
src=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { printf 'consumer %s: FAIL: %s\n' "$mode" "$*" >&2; exit 1; }
quiet() { "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; return 1; }; }

header_version() {
    local h=$src/core/include/fwresume.h
    printf '%s.%s.%s' \
        "$(sed -n 's/^#define FWR_VERSION_MAJOR \([0-9]*\)$/\1/p' "$h")" \
        "$(sed -n 's/^#define FWR_VERSION_MINOR \([0-9]*\)$/\1/p' "$h")" \
        "$(sed -n 's/^#define FWR_VERSION_PATCH \([0-9]*\)$/\1/p' "$h")"
}

# install_core PREFIX [cmake args...]: configure core/ on its own, install.
install_core() {
    local prefix=$1
    shift
    quiet cmake -S "$src/core" -B "$tmp/core-build" -DCMAKE_BUILD_TYPE=${build_type:-Release} "$@" \
        || fail "configuring core/ on its own"
    quiet cmake --build "$tmp/core-build" -j 2 || fail "building core/"
    quiet cmake --install "$tmp/core-build" --prefix "$prefix" \
        || fail "cmake --install"
    (cd "$prefix" && find . -type f | sort) >"$tmp/installed"
    echo "installed under $prefix:"
    sed 's/^/  /' "$tmp/installed"
    local f
    for f in ./include/fwresume.h ./include/fwr_skipbad.h ./include/fwr_mbedtls.h \
             ./lib/libfwresume.a ./lib/libfwresume_skipbad.a \
             ./lib/cmake/fwresume/fwresumeConfig.cmake \
             ./lib/cmake/fwresume/fwresumeConfigVersion.cmake \
             ./lib/cmake/fwresume/fwresumeTargets.cmake \
             ./lib/pkgconfig/fwresume.pc ./lib/pkgconfig/fwresume-skipbad.pc; do
        grep -qxF "$f" "$tmp/installed" || fail "not installed: ${f#./}"
    done
    if grep -q 'mut' "$tmp/installed"; then fail "a mutant was installed"; fi
}

# no_mutants DIR: no broken-engine variant was built under DIR.
no_mutants() {
    ! find "$1" -name 'libfwresume_mut_*' | grep -q .
}

case $mode in
find_package)
    install_core "$tmp/prefix"
    quiet cmake -S "$here/find_package" -B "$tmp/b" \
        -DCMAKE_PREFIX_PATH="$tmp/prefix" || fail "find_package(fwresume 0.3)"
    quiet cmake --build "$tmp/b" -j 2 || fail "building against the package"
    "$tmp/b/roundtrip" || fail "round trip"
    "$tmp/b/roundtrip_ports" || fail "round trip with the port libraries"
    # The version check has teeth: a newer minor (0.x: breaking) and a
    # newer major are refused.
    for v in 0.4 1.0; do
        if cmake -S "$here/find_package" -B "$tmp/b$v" -DFWR_WANT_VERSION=$v \
                 -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/log" 2>&1; then
            fail "find_package(fwresume $v) accepted version $(header_version)"
        fi
        grep -q 'version' "$tmp/log" || fail "refusal of $v names no version"
    done
    echo "find_package: 0.3 found; 0.4 and 1.0 refused"
    ;;
pkgconfig)
    install_core "$tmp/prefix"
    export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
    got=$(pkg-config --modversion fwresume)
    [ "$got" = "$(header_version)" ] \
        || fail "fwresume.pc says $got, fwresume.h says $(header_version)"
    cp -r "$here/pkgconfig" "$tmp/mk" && cp "$here/roundtrip.c" "$tmp/"
    quiet make -C "$tmp/mk" || fail "make with pkg-config"
    "$tmp/mk/roundtrip" || fail "round trip"
    # Relocatable: the prefix moved after installing still works.
    mv "$tmp/prefix" "$tmp/moved"
    export PKG_CONFIG_PATH=$tmp/moved/lib/pkgconfig
    rm -f "$tmp/mk/roundtrip"
    quiet make -C "$tmp/mk" || fail "make after moving the prefix"
    "$tmp/mk/roundtrip" || fail "round trip after moving the prefix"
    # And the check has teeth: without the package, make stops.
    export PKG_CONFIG_PATH=$tmp/nowhere
    rm -f "$tmp/mk/roundtrip"
    if make -C "$tmp/mk" >"$tmp/log" 2>&1; then fail "built without fwresume.pc"; fi
    echo "pkgconfig: fwresume $got, relocatable"
    ;;
subdir)
    quiet cmake -S "$here/subdir" -B "$tmp/b" -DFWRESUME_SOURCE="$src/core" \
        || fail "add_subdirectory(core)"
    quiet cmake --build "$tmp/b" -j 2 || fail "building with add_subdirectory"
    "$tmp/b/roundtrip" || fail "round trip"
    no_mutants "$tmp/b" || fail "add_subdirectory built broken-engine variants"
    built=$(cd "$tmp/b" && find . -name '*.a' -printf '%f\n' | sort | tr '\n' ' ')
    echo "subdir: built $built"
    # The mutant check finds them where they are: fotasim's own test build.
    if [ -n "${3:-}" ] && no_mutants "$3"; then
        fail "no_mutants sees no mutant in fotasim's own build $3"
    fi
    ;;
cross)
    command -v arm-none-eabi-gcc >/dev/null || fail "arm-none-eabi-gcc missing"
    tc=$src/cmake/arm-none-eabi-cortex-m4.cmake
    build_type=MinSizeRel install_core "$tmp/arm" -DCMAKE_TOOLCHAIN_FILE="$tc"
    # Archive members are Cortex-M4 code.
    arm-none-eabi-readelf -A "$tmp/arm/lib/libfwresume.a" >"$tmp/attr"
    grep -q 'Tag_CPU_arch: v7E-M' "$tmp/attr" || fail "libfwresume.a is not v7E-M code"
    # The firmware sees only the installed tree: the source is moved away.
    quiet cmake -S "$here/cross" -B "$tmp/fw" -DCMAKE_TOOLCHAIN_FILE="$tc" \
        -DCMAKE_BUILD_TYPE=MinSizeRel -DCMAKE_FIND_ROOT_PATH="$tmp/arm" \
        || fail "configuring the Cortex-M4 firmware against the install"
    quiet cmake --build "$tmp/fw" || fail "linking the Cortex-M4 firmware"
    elf=$tmp/fw/roundtrip.elf
    arm-none-eabi-readelf -h "$elf" | grep -q 'Machine:.*ARM' || fail "not an ARM ELF"
    grep -q "$src/core" "$tmp/fw/CMakeCache.txt" && fail "the firmware build saw the source tree"
    echo "cross: Cortex-M4 library (size of the installed archive's members):"
    arm-none-eabi-size -t "$tmp/arm/lib/libfwresume.a" | sed 's/^/  /'
    arm-none-eabi-size "$elf" | sed 's/^/  /'
    ;;
*)
    fail "unknown mode"
    ;;
esac
echo "consumer $mode: ok"
