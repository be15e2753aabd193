# viewer.cmake: the viewer side (engine/guide: the personalised PDF guide with cairo + pango,
# and the player page; engine/analytics uses SQLite and libsodium, linked by server.cmake),
# plus the web assets' npm install for the browser tests (tests/cli/e2e.sh runs `npm ci`
# itself when web/node_modules is missing; `make -C build web-deps` does it by hand).
pkg_check_modules(CIAK_CAIRO REQUIRED IMPORTED_TARGET cairo cairo-pdf)
pkg_check_modules(CIAK_PANGO REQUIRED IMPORTED_TARGET pangocairo)
target_link_libraries(ciak PUBLIC PkgConfig::CIAK_CAIRO PkgConfig::CIAK_PANGO)

find_program(CIAK_NPM npm)
if(CIAK_NPM)
  add_custom_target(web-deps
    COMMAND ${CIAK_NPM} ci --no-audit --no-fund
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/web
    COMMENT "npm ci in web/ (hls.js, playwright-core, @axe-core/playwright)")
endif()
