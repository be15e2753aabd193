# store.cmake: the people store's PostgreSQL backend (engine/store/store_pg.c): libpq from
# Debian 12 (libpq-dev, scripts/install-deps.sh). SQLite, the embedded default, comes in with
# cmake/server.cmake.
pkg_check_modules(CIAK_PQ REQUIRED IMPORTED_TARGET libpq)
target_link_libraries(ciak PUBLIC PkgConfig::CIAK_PQ)
