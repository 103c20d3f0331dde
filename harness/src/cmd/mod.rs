//! One module per `kantakoe` subcommand; each has an `Args` struct and a `run` function.

pub mod bench;
pub mod example;
pub mod inspect;
pub mod pki;
pub mod preflight;
pub mod query;
pub mod rehearse;
pub mod report;
pub mod sign;
pub mod validate;
pub mod verify;

/// The harness client's timeouts as flags, shared by the commands that reach an archive.
#[derive(Debug, Clone, clap::Args)]
pub struct TimeoutArgs {
    /// Seconds to wait for the TCP connection to the archive.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub connect_timeout: u64,
    /// Seconds to wait for the TLS handshake to finish.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub handshake_timeout: u64,
    /// Seconds to wait for each whole response.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub response_timeout: u64,
}

impl TimeoutArgs {
    /// The client's timeouts.
    pub fn timeouts(&self) -> crate::client::Timeouts {
        use std::time::Duration;
        crate::client::Timeouts {
            connect: Duration::from_secs(self.connect_timeout),
            handshake: Duration::from_secs(self.handshake_timeout),
            response: Duration::from_secs(self.response_timeout),
        }
    }
}
