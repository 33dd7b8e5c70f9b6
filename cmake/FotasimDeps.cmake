# Host dependencies of the simulator and harness. Each missing one stops
# configure with the Debian package that provides it.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

function(fotasim_require_pc prefix module debian_pkg)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR
      "${module} not found (pkg-config ${module}): apt-get install ${debian_pkg}")
  endif()
endfunction()

# libfiu installs libfiu.pc under /usr/lib/pkgconfig and the library in
# /usr/lib; its points compile to nothing unless FIU_ENABLE is defined, so
# the targets that want live points define it themselves.
fotasim_require_pc(FIU libfiu libfiu-dev)
fotasim_require_pc(INIH inih libinih-dev)
# CRC-32 for the harness's hash ops: libdeflate's PCLMUL/AVX code computes
# zlib's CRC-32 several times faster than zlib, and CRC is most of a
# torture run's time.
fotasim_require_pc(LIBDEFLATE libdeflate libdeflate-dev)

# LZ4 (high-compression mode) for `fotasim pack`: the packer's encoder.
fotasim_require_pc(LZ4 liblz4 liblz4-dev)

find_package(SQLite3)
if(NOT SQLite3_FOUND)
  message(FATAL_ERROR "SQLite3 not found: apt-get install libsqlite3-dev")
endif()
