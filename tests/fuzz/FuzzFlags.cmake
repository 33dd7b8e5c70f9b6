# FOTASIM_FUZZ: the libFuzzer build of tests/fuzz (scripts/fuzz configures
# it in build-fuzz). Included from the top-level CMakeLists.txt before any
# target, so the engine, the simulator and the harness libraries carry the
# same coverage instrumentation and sanitizers as the fuzz targets: libFuzzer
# only sees the code that is instrumented. The fuzz executables add
# -fsanitize=fuzzer themselves (tests/fuzz/CMakeLists.txt).
option(FOTASIM_FUZZ "Build the libFuzzer targets in tests/fuzz (needs clang)" OFF)

set(FOTASIM_FUZZ_SANITIZERS
    address,undefined,float-cast-overflow,integer-divide-by-zero)

if(FOTASIM_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "FOTASIM_FUZZ needs clang (libFuzzer): configure with "
                        "-DCMAKE_C_COMPILER=clang (Debian: apt-get install "
                        "clang libclang-rt-14-dev)")
  endif()
  if(FOTASIM_SANITIZE)
    message(FATAL_ERROR "FOTASIM_FUZZ brings its own sanitizers: drop FOTASIM_SANITIZE")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,${FOTASIM_FUZZ_SANITIZERS}
                      -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${FOTASIM_FUZZ_SANITIZERS})
endif()
