# learnkv front door. `make run` and `make test` work on a fresh Debian bookworm machine as root.
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps rocksdb-source configure build test run demo bench sanitize-test tsan-test fuzz clean

all: build

deps:
	@bash scripts/install-deps.sh

# RocksDB's source headers for the RocksDB table-format plugin (sstable/rocksdb/): Debian's
# source package of the installed librocksdb, unpacked once into /var/cache/learnkv. Without
# them CMake leaves the plugin out and builds everything else.
rocksdb-source:
	@bash scripts/fetch-rocksdb-source.sh >/dev/null || \
	  echo "make: could not fetch RocksDB's source package; the RocksDB plugin is not built" >&2

$(BUILD)/build.ninja:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory rocksdb-source
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

configure: $(BUILD)/build.ninja

build: deps rocksdb-source configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

run: build
	bash scripts/run.sh $(BUILD)

demo: build
	$(BUILD)/bin/learnkv-demo

bench: build
	bash bench/run_all.sh $(BUILD)

# The sanitizer builds of the tests (address+undefined, then thread) in their own build folders.
sanitize-test: deps rocksdb-source
	cmake -S . -B $(BUILD)-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLEARNKV_SANITIZE=address,undefined -DLEARNKV_BUILD_BENCH=OFF -DLEARNKV_BUILD_FUZZ=OFF
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ctest --output-on-failure -j $(JOBS) --timeout 900

tsan-test: deps
	cmake -S . -B $(BUILD)-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLEARNKV_SANITIZE=thread -DLEARNKV_BUILD_BENCH=OFF -DLEARNKV_BUILD_FUZZ=OFF
	cmake --build $(BUILD)-tsan -j $(JOBS)
	cd $(BUILD)-tsan && ctest --output-on-failure -j $(JOBS) --timeout 900

# A short run of every libFuzzer target (15 s each); longer runs: fuzz/README.md.
fuzz: build
	cd $(BUILD) && ctest -L fuzz --output-on-failure

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan
