# runbox's everyday commands. `just` is optional: each recipe is one plain
# command you can run yourself.

# Install the guest toolchain (clang-19, wasi-libc, wasm32-wasip2)
setup:
    scripts/setup

# Rebuild the guest components into guests/dist/ (commit the result)
guests:
    scripts/build-guests

# Fail if guests/dist/ is not what the guest sources build
check-guests:
    scripts/build-guests --check

# The whole test suite, with what it needs installed
test:
    scripts/test

# Per-step and end-to-end timings against Node, and shell steps on 10 MB to 1 GB logs against
# GNU's tools; writes BENCHMARKS.md
bench:
    cargo bench --bench overhead && cargo bench --bench data_sizes

# runbox serve under load (wrk) beside a Flask design (bench/flask_anchor.py); writes its section of BENCHMARKS.md
bench-api:
    bench/api-load

# A pod's first request, from the container image (scripts/build-image first; as root)
bench-pod:
    bench/pod-start

# Run a runbook: just run runbooks/HelloWorld.md
run RUNBOOK *ARGS:
    cargo run --release --features otel,kubernetes -- run {{RUNBOOK}} {{ARGS}}
