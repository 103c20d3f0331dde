//! The `kantakoe` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    kantakoe::cli::main()
}
