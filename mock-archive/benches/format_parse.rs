//! Parse throughput of the format layer: `read_message` + `check_consistency` on a ~20 KB
//! social welfare message (built by `kantakoe::compose`, kept in `src/format/testdata/`).
//! Run with `cargo bench -p mock-archive --bench format_parse [-- ITERATIONS]`.

fn main() {
    let message = include_bytes!("../src/format/testdata/bench-message.xml");
    let iterations = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<u32>().ok())
        .unwrap_or(20_000);
    // Warm up caches and the allocator.
    if let Err(problems) = mock_archive::format::bench_parse(message, 200) {
        eprintln!("the bench message does not read cleanly: {problems:?}");
        std::process::exit(2);
    }
    match mock_archive::format::bench_parse(message, iterations) {
        Ok(b) => println!(
            "format_parse: {} bytes x {} in {:.3} s: {:.1} MB/s, {:.0} messages/s ({:.1} us/message)",
            b.bytes,
            b.iterations,
            b.seconds,
            b.mb_per_s,
            b.messages_per_s,
            1e6 / b.messages_per_s
        ),
        Err(problems) => {
            eprintln!("the bench message does not read cleanly: {problems:?}");
            std::process::exit(2);
        }
    }
}
