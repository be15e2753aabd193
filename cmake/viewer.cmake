# viewer.cmake: the viewer side (engine/guide: the personalised PDF guide with cairo + pango,
# and the player page; engine/analytics uses SQLite and libsodium, linked by server.cmake),
# plus the web assets' npm packages.
#
# hls.js (the player's fallback where a browser has no native HLS, e.g. Firefox) is built into
# the binary: a server that runs always has it, whatever folder it runs from and whether or not
# anyone ran `npm ci`. The build runs `npm ci` in web/ when hls.js is missing, and stops with
# what to do when it cannot get it. tests/cli/e2e.sh also runs `npm ci` for the browser tests'
# tools (playwright-core, @axe-core/playwright); `make -C build web-deps` does it by hand.
pkg_check_modules(CIAK_CAIRO REQUIRED IMPORTED_TARGET cairo cairo-pdf)
pkg_check_modules(CIAK_PANGO REQUIRED IMPORTED_TARGET pangocairo)
target_link_libraries(ciak PUBLIC PkgConfig::CIAK_CAIRO PkgConfig::CIAK_PANGO)

set(CIAK_WEB_DIR ${PROJECT_SOURCE_DIR}/web)
set(CIAK_HLS_JS ${CIAK_WEB_DIR}/node_modules/hls.js/dist/hls.light.min.js)
set(CIAK_HLS_HELP "Run `npm ci` in ${CIAK_WEB_DIR} (it needs npm, from scripts/install-deps.sh, \
and access to the npm registry once), then build again.")
find_program(CIAK_NPM npm)
if(NOT EXISTS ${CIAK_HLS_JS})
  if(NOT CIAK_NPM)
    message(FATAL_ERROR "ciak needs hls.js (web/node_modules/hls.js), built into the server for "
                        "browsers without native HLS, and npm is not installed. ${CIAK_HLS_HELP}")
  endif()
  message(STATUS "hls.js missing: npm ci in web/")
  execute_process(COMMAND ${CIAK_NPM} ci --no-audit --no-fund WORKING_DIRECTORY ${CIAK_WEB_DIR}
                  RESULT_VARIABLE CIAK_NPM_RC)
  if(NOT EXISTS ${CIAK_HLS_JS})
    message(FATAL_ERROR "ciak needs hls.js (web/node_modules/hls.js), built into the server for "
                        "browsers without native HLS, and `npm ci` in web/ failed "
                        "(${CIAK_NPM_RC}). ${CIAK_HLS_HELP}")
  endif()
endif()
# engine/server/viewer.c takes the file in with the assembler's .incbin. The build follows
# npm's own record of its install (node_modules/.package-lock.json): a changed
# package-lock.json runs `npm ci` again and recompiles viewer.c, and so does a node_modules
# deleted after configuring.
set(CIAK_NPM_STAMP ${CIAK_WEB_DIR}/node_modules/.package-lock.json)
set_source_files_properties(${PROJECT_SOURCE_DIR}/engine/server/viewer.c PROPERTIES
  COMPILE_DEFINITIONS "CIAK_HLS_JS_PATH=\"${CIAK_HLS_JS}\""
  OBJECT_DEPENDS ${CIAK_NPM_STAMP})
if(CIAK_NPM)
  add_custom_command(OUTPUT ${CIAK_NPM_STAMP}
    COMMAND ${CIAK_NPM} ci --no-audit --no-fund
    WORKING_DIRECTORY ${CIAK_WEB_DIR}
    DEPENDS ${CIAK_WEB_DIR}/package-lock.json
    COMMENT "npm ci in web/ (hls.js is built into the server)")
  add_custom_target(web-deps
    COMMAND ${CIAK_NPM} ci --no-audit --no-fund
    WORKING_DIRECTORY ${CIAK_WEB_DIR}
    COMMENT "npm ci in web/ (hls.js, playwright-core, @axe-core/playwright)")
endif()
