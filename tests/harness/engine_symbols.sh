#!/usr/bin/env bash
# engine_symbols.sh NM FILE...: the harness reaches the engine under test
# through engine.h only (issue: one seam for the engine). FILE is a static
# library or an object; every fwr_* symbol any of their objects defines or
# refers to must belong to the fwresume adapter's room: engines/fwresume.c,
# its hash ops (engines/hashes.c), its second reader
# (engines/record_reader.c) and the engine's mbedTLS port compiled in with
# them (fwr_mbedtls.c), and the package download layer with its mbedTLS
# hooks (fwr_pkgdl.c, fwr_mbedtls_pkg.c: port code a device links above the
# engine). Prints each offender as "object: symbol" and exits 1.
set -uo pipefail
nm=$1; shift
allowed='^(fwresume|hashes|record_reader|fwr_mbedtls|fwr_mbedtls_pkg|fwr_pkgdl)\.c\.o$'
bad=0 seen=0
for f in "$@"; do
    [ -e "$f" ] || { echo "engine_symbols: no $f"; exit 2; }
    # nm -A -P: "lib.a[obj.o]: sym TYPE ..." or "path/obj.o: sym TYPE ..."
    while read -r where sym _; do
        seen=$((seen + 1))
        case $sym in fwr_*) ;; *) continue ;; esac
        obj=${where%:}
        case $obj in *\]) obj=${obj##*[}; obj=${obj%]} ;; *) obj=$(basename "$obj") ;; esac
        if ! [[ $obj =~ $allowed ]]; then
            echo "$obj: $sym"
            bad=1
        fi
    done < <("$nm" -A -P "$f" 2>/dev/null)
done
[ "$seen" -gt 0 ] || { echo "engine_symbols: no symbols read (nm failed?)"; exit 2; }
if [ "$bad" -ne 0 ]; then
    echo "engine_symbols: fwr_* referenced outside the fwresume adapter"
    exit 1
fi
echo "engine_symbols: $seen symbols, no fwr_* outside the fwresume adapter"
