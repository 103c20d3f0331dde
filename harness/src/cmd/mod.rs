//! One module per `kantakoe` subcommand; each has an `Args` struct and a `run` function.

pub mod bench;
pub mod example;
pub mod inspect;
pub mod pki;
pub mod preflight;
pub mod rehearse;
pub mod report;
pub mod sign;
pub mod validate;
pub mod verify;
