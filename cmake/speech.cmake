# speech.cmake: speech synthesis (engine/speech): libespeak-ng, called in-process.
pkg_check_modules(CIAK_ESPEAK REQUIRED IMPORTED_TARGET espeak-ng)
find_package(Threads REQUIRED)
target_link_libraries(ciak PUBLIC PkgConfig::CIAK_ESPEAK Threads::Threads)
