# Kantakoe's everyday commands; each is one line over cargo.

# List the recipes.
default:
    @just --list

# Run the main job: the whole rehearsal against an embedded archive.
rehearse:
    cargo run -p kantakoe -- rehearse

# The connection test against an embedded archive.
preflight:
    cargo run -p kantakoe -- preflight

# Run every test.
test:
    tests/run

# Check formatting and lints as CI does.
lint:
    cargo fmt --all --check && cargo clippy --workspace --all-targets -- -D warnings

# Measure the archive against the bare baseline (release builds).
bench:
    cargo build --release -p mock-archive -p kantakoe && target/release/kantakoe bench

# Run everything CI runs.
ci:
    bash .ci/run
