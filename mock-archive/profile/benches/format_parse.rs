//! Parse throughput of the format layer: `read_message` + `check_consistency` on a ~20 KB
//! social welfare message (built by `kantakoe::compose`, kept in `src/format/testdata/`).
//! Run with `cargo bench -p mock-archive --bench format_parse [-- ITERATIONS]`.
//!
//! Prints wall-clock figures from [`kanta_profile::format::bench_parse`] and, on Linux, the
//! CPU time of the benchmark thread (from `/proc/thread-self/schedstat`), which stays
//! meaningful when other processes share the cores.

/// CPU time this thread has run, in nanoseconds (Linux), if available.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn main() {
    let message = include_bytes!("../src/format/testdata/bench-message.xml");
    let iterations = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<u32>().ok())
        .unwrap_or(20_000);
    // Warm up caches and the allocator.
    if let Err(problems) = kanta_profile::format::bench_parse(message, 200) {
        eprintln!("the bench message does not read cleanly: {problems:?}");
        std::process::exit(2);
    }
    let cpu_before = thread_cpu_ns();
    let result = kanta_profile::format::bench_parse(message, iterations);
    let cpu = cpu_before
        .zip(thread_cpu_ns())
        .map(|(a, b)| b.saturating_sub(a));
    match result {
        Ok(b) => {
            println!(
                "format_parse wall: {} bytes x {} in {:.3} s: {:.1} MB/s, {:.0} messages/s ({:.1} us/message)",
                b.bytes,
                b.iterations,
                b.seconds,
                b.mb_per_s,
                b.messages_per_s,
                1e6 / b.messages_per_s
            );
            if let Some(ns) = cpu.filter(|ns| *ns > 0) {
                let seconds = ns as f64 / 1e9;
                let per = seconds / f64::from(b.iterations);
                println!(
                    "format_parse cpu:  {:.3} s: {:.1} MB/s, {:.0} messages/s ({:.1} us/message)",
                    seconds,
                    b.bytes as f64 / per / 1e6,
                    1.0 / per,
                    per * 1e6
                );
            }
        }
        Err(problems) => {
            eprintln!("the bench message does not read cleanly: {problems:?}");
            std::process::exit(2);
        }
    }
}
