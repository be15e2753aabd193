# server.cmake: the stream server's dependencies (engine/store, engine/server): SQLite for the
# people store, libsodium for encryption and link tokens, libmicrohttpd for HTTP, libqrencode
# for the QR codes of `ciak links`. All from Debian 12 (scripts/install-deps.sh).
pkg_check_modules(CIAK_SQLITE REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(CIAK_SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(CIAK_MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(CIAK_QRENCODE REQUIRED IMPORTED_TARGET libqrencode)
find_package(Threads REQUIRED)
target_link_libraries(ciak PUBLIC PkgConfig::CIAK_SQLITE PkgConfig::CIAK_SODIUM PkgConfig::CIAK_MHD
                      PkgConfig::CIAK_QRENCODE Threads::Threads)
