# ciak: the two commands of the README, and the steps they are made of.
#   make demo   install what is missing, build, run the main job on the embedded default
#   make test   install what is missing, build, run every test (then again under ASan+UBSan)

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CIAK       := $(BUILD)/ciak
SCENES     := $(sort $(dir $(wildcard scenes/*/scene.json)))

.PHONY: all deps assets build build-asan test test-unit test-asan demo format check-format clean

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
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

test: test-unit test-asan

# Until the stream server exists, the demo checks every campaign with its sample records and
# prints its segment map.
demo: build assets
	@for s in $(SCENES); do \
	  echo "== $$s"; \
	  $(CIAK) check $$s --data $${s}samples.json || exit 1; \
	done

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
