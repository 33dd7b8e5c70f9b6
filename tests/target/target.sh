#!/usr/bin/env bash
# The engine on its target ISA: tests/target/trials.c built for the host and
# for Cortex-M, run natively and on QEMU's mps2-an386, compared line by line
# (every cut-and-resume trial's answers and flash CRC), and the stack each
# public entry point really used on the target set against scripts/footprint's
# static worst path.
#
#   target.sh CPU               cortex-m4 or cortex-m0plus (the M0+ build runs
#                               on the M4 board with CCR.UNALIGN_TRP set)
#   target.sh CPU --skew N      build the target's engine as mutant N
#                               (core/src/fwr_mutant.h): the answers must
#                               differ, and this script must say so (exit 0
#                               only when the comparison failed)
#   target.sh CPU --probe-unaligned
#                               an unaligned load must fault on the M0+
#                               build and not on the M4 build (exit 0 when so)
#
# Exit 0 on success, 1 on a failed check, 2 on a tool missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cpu=${1:?usage: target.sh CPU [--skew N | --probe-unaligned]}
shift
skew=
probe=
case ${1:-} in
--skew) skew=$2 ;;
--probe-unaligned) probe=1 ;;
'') ;;
*) echo "target.sh: unknown option $1" >&2; exit 2 ;;
esac
case $cpu in
cortex-m4) trap_def= ;;
cortex-m0plus) trap_def=-DFWR_TRAP_UNALIGNED ;;
*) echo "target.sh: CPU is cortex-m4 or cortex-m0plus" >&2; exit 2 ;;
esac
for t in arm-none-eabi-gcc qemu-system-arm cc; do
    command -v $t >/dev/null || { echo "target.sh: $t missing" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
here=$root/tests/target
inc=-I$root/core/include
flags=(-mcpu="$cpu" -mthumb -Os -std=c99 -ffreestanding -ffunction-sections
       -fdata-sections -Wall -Wextra -Werror)

# The engine: the very objects the footprint table measures, or a mutant.
if [ -z "$skew" ]; then
    bash "$root/scripts/footprint" --cpu "$cpu" --out "$tmp/fp" >"$tmp/footprint.txt" \
        || { cat "$tmp/footprint.txt" >&2; echo "target.sh: footprint failed" >&2; exit 1; }
    objs=("$tmp/fp/$cpu"/fwr_*.o)
else
    mkdir -p "$tmp/mut"
    for src in "$root"/core/src/*.c; do
        arm-none-eabi-gcc "${flags[@]}" -DFWR_MUTANT="$skew" "$inc" -I"$root/core/src" \
            -c "$src" -o "$tmp/mut/$(basename "${src%.c}").o"
    done
    objs=("$tmp/mut"/*.o)
fi

defs=(-DFWR_TARGET $trap_def)
[ -n "$probe" ] && defs+=(-DFWR_PROBE_UNALIGNED)
arm-none-eabi-gcc "${flags[@]}" "${defs[@]}" "$inc" -c "$here/trials.c" -o "$tmp/trials.o"
arm-none-eabi-gcc "${flags[@]}" "${defs[@]}" -c "$here/target_start.c" -o "$tmp/start.o"
arm-none-eabi-gcc -mcpu="$cpu" -mthumb -nostartfiles --specs=nano.specs \
    -T "$here/mps2.ld" -Wl,--gc-sections "$tmp/start.o" "$tmp/trials.o" "${objs[@]}" \
    -lc -lgcc -o "$tmp/trials.elf"

# Semihosting output arrives on QEMU's stderr.
set +e
timeout 300 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$tmp/trials.elf" \
    >"$tmp/qemu.out" 2>"$tmp/target.txt"
qrc=$?
set -e

if [ -n "$probe" ]; then
    # The M0+ build must fault (the trap is on); the M4 build, without the
    # trap, must not: together they show the trap is what faults.
    faulted=0
    [ $qrc -ne 0 ] && grep -q '^FAULT' "$tmp/target.txt" && faulted=1
    want=1
    [ "$cpu" = cortex-m4 ] && want=0
    if [ $faulted -eq $want ]; then
        echo "target.sh: $cpu build: an unaligned load $( [ $want = 1 ] && echo faults || echo "does not fault (no trap on M4)")"
        exit 0
    fi
    echo "target.sh: $cpu build: unaligned load faulted=$faulted, expected $want" >&2
    cat "$tmp/target.txt" >&2
    exit 1
fi

cc -std=c99 -O2 -Wall -Wextra -Werror "$inc" "$here/trials.c" "$root"/core/src/*.c \
    -o "$tmp/host"
set +e
"$tmp/host" >"$tmp/host.txt"
hrc=$?
set -e

grep -v '^stack ' "$tmp/target.txt" >"$tmp/target-answers.txt" || true
trials=$(sed -n 's/^trials \([0-9]*\) .*/\1/p' "$tmp/host.txt")
if ! cmp -s "$tmp/host.txt" "$tmp/target-answers.txt"; then
    first=$(diff "$tmp/host.txt" "$tmp/target-answers.txt" | sed -n '1p' || true)
    echo "target.sh: $cpu and host answers differ (first at diff line $first):" >&2
    diff "$tmp/host.txt" "$tmp/target-answers.txt" | sed -n '2,7p' >&2 || true
    if [ -n "$skew" ]; then
        echo "target.sh: mutant $skew on the target seen as a difference: the comparison has teeth"
        exit 0
    fi
    exit 1
fi
if [ -n "$skew" ]; then
    echo "target.sh: mutant $skew on the target gave the host's answers: comparison blind" >&2
    exit 1
fi
[ $hrc -eq 0 ] && [ $qrc -eq 0 ] || {
    echo "target.sh: a trial ended wrong (host $hrc, qemu $qrc)" >&2
    grep WRONG "$tmp/host.txt" | head >&2
    exit 1
}
echo "target.sh: $cpu: $trials cut-and-resume trials, host and target answers identical"

# Stack: measured on the target (painting; includes this program's flash
# ops, which are leaves) against the static worst path.
status=0
printf '%-22s %10s %10s\n' "entry ($cpu)" measured static
while read -r _ name used; do
    static=$(awk -v n="$name" '$1 == n { print $2 }' "$tmp/footprint.txt" | head -1)
    [ -n "$static" ] || { echo "no static figure for $name" >&2; status=1; continue; }
    flag=
    if [ "$used" -gt "$static" ]; then flag='  MORE THAN THE STATIC BOUND'; status=1; fi
    printf '%-22s %10s %10s%s\n' "$name" "$used" "$static" "$flag"
done < <(grep '^stack ' "$tmp/target.txt")
exit $status
