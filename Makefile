# ciak: the two commands of the README, and the steps they are made of.
#   make demo   install what is missing, build, run the main job on the embedded default
#   make test   install what is missing, build, run every test (then again under ASan+UBSan)

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CIAK       := $(BUILD)/ciak
SCENES     := $(sort $(dir $(wildcard scenes/*/scene.json)))

.PHONY: all deps assets build build-asan test test-unit test-asan demo cluster-up cluster-down format check-format clean fuzz

all: build

# Debian packages (needs root; a no-op when everything is installed).
deps:
	@if [ "$$(id -u)" -eq 0 ]; then bash scripts/install-deps.sh; \
	else echo "make: not root, skipping scripts/install-deps.sh (run it as root once)"; fi

# Generated assets: background videos, voice-overs, fallback font (assets/generated/).
assets: deps
	bash scripts/make-assets.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCIAK_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

test-unit: build assets
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan assets
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

test: test-unit test-asan

# The main job on the embedded default (SQLite, lavapipe, libx264): every demo campaign's
# samples imported into $(DEMO_DATA) (the same checks as `ciak check`), a link and QR code per
# person (valid 30 days from today), a few links printed, a dashboard password made and
# printed once when there is none yet, then `ciak serve` in the foreground on 127.0.0.1:8080
# (Ctrl-C stops it).
DEMO_DATA ?= var/demo
DEMO_URL  ?= http://127.0.0.1:8080

demo: build assets
	@set -e; until=$$(date -u -d '+30 days' +%F); \
	for s in $(SCENES); do \
	  c=$$(basename $$s); echo "== $$c"; \
	  $(CIAK) import $$c $${s}samples.json --data-dir $(DEMO_DATA) | grep -v 'availability window'; \
	  $(CIAK) links $$c --base-url $(DEMO_URL) -o $(DEMO_DATA)/links-$$c.csv \
	    --qr $(DEMO_DATA)/qr/$$c --expires $$until --data-dir $(DEMO_DATA); \
	done; \
	echo; echo "Links (all in $(DEMO_DATA)/links-*.csv, QR codes in $(DEMO_DATA)/qr/):"; \
	for f in $(DEMO_DATA)/links-*.csv; do sed -n '2,3p' $$f | cut -d, -f2; done; echo; \
	if [ ! -s $(DEMO_DATA)/admin ]; then \
	  pw=$$(head -c 18 /dev/urandom | base64 | tr '+/' '-_'); \
	  printf '%s\n' "$$pw" | $(CIAK) admin-password --data-dir $(DEMO_DATA) >/dev/null; \
	  echo "Dashboard: $(DEMO_URL)/admin/  password: $$pw"; \
	  echo "(shown only now; change it with: $(CIAK) admin-password --data-dir $(DEMO_DATA))"; \
	else \
	  echo "Dashboard: $(DEMO_URL)/admin/ (password set earlier; change it with:" \
	    "$(CIAK) admin-password --data-dir $(DEMO_DATA))"; \
	fi; echo
	$(CIAK) serve --listen 127.0.0.1:8080 --data-dir $(DEMO_DATA)

# A one-machine cluster (scripts/cluster.sh): PostgreSQL, nginx on 127.0.0.1:8080 with
# deploy/nginx/nginx.conf, three `ciak serve --cluster` nodes on 8081-8083; the demo people
# are imported once and every link (through nginx) is printed. `make cluster-down` stops it.
cluster-up: build assets
	bash scripts/cluster.sh up

cluster-down:
	bash scripts/cluster.sh down

# libFuzzer on every parser (tests/fuzz/README.md): clang, ASan+UBSan, FUZZ_SECONDS per target.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCIAK_FUZZ=ON -DCIAK_WERROR=OFF \
	  "-DCMAKE_C_FLAGS=-O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	  "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined"
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets
	bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
