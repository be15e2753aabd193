# media.cmake: decoding, encoding, muxing (engine/media), the renderer (engine/render) and the
# segment digests (engine/segment/digest.c): FFmpeg's libraries and libsodium (BLAKE2b).
pkg_check_modules(CIAK_AV REQUIRED IMPORTED_TARGET
  libavcodec libavformat libavutil libswscale libswresample)
pkg_check_modules(CIAK_SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_package(Threads REQUIRED)
target_link_libraries(ciak PUBLIC PkgConfig::CIAK_AV PkgConfig::CIAK_SODIUM Threads::Threads)
