# Shared by scripts/run, scripts/test, scripts/footprint, scripts/bench*.
# Sourced, not run.

FOTASIM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages every build needs. The footprint gate needs the Cortex-M
# cross compiler; the report needs gnuplot (added by the report's script);
# examples/http_update, built with the harness, needs libcurl.
FOTASIM_BUILD_PKGS="cmake make gcc pkg-config libc6-dev libdeflate-dev
  libfiu-dev fiu-utils libcmocka-dev libsqlite3-dev sqlite3 libinih-dev
  libmbedtls-dev liblz4-dev parallel gnuplot-nox help2man libcurl4-openssl-dev"
FOTASIM_CROSS_PKGS="gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi
  gcc-riscv64-unknown-elf"
# The report's browser test; strace makes writes fail for the storage
# error tests (cli_storage_strace); qemu-system-arm runs the engine on
# Cortex-M (tests/target); xmllint (libxml2-utils) validates the JUnit;
# python3-yaml and git run the CI recipes of docs/ci/ (ci_recipes.py);
# nginx serves the images of the http tests (tests/http: each test starts
# its own on a free port of 127.0.0.1, not the Debian service).
FOTASIM_TEST_PKGS="chromium strace qemu-system-arm libxml2-utils python3-yaml git
  nginx"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_packages PKG...: apt-get install only the ones not installed yet,
# so a second run touches nothing and needs no network.
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
}

# configure_build DIR [cmake args...]: configure once, then only build.
configure_build() {
    local dir=$1; shift
    cmake -S "$FOTASIM_ROOT" -B "$dir" "$@" >/dev/null || die "cmake configure failed ($dir)"
    cmake --build "$dir" -j "$(nproc)" || die "build failed ($dir)"
}
