//! The report as an RFC 5322 / MIME message: lettre's message builder does the encoding
//! (UTF-8 `text/plain`, RFC 2047 headers), so no MIME is written by hand here.

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, SinglePart};
use thiserror::Error;

use super::settings::Settings;

/// Kela's address for deployment-test reports (the seeds: "sähköpostilla Kelaan osoitteeseen
/// kanta@kanta.fi").
pub const KANTA_ADDRESS: &str = "kanta@kanta.fi";

/// Why the message could not be built.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EmailError {
    /// A mailbox in the settings could not be read (the settings check should have caught
    /// it).
    #[error("report email: `{value}` is not an email address ({reason})")]
    Mailbox {
        /// The text given.
        value: String,
        /// The parser's reason.
        reason: String,
    },
    /// The message builder refused the message.
    #[error("report email could not be built: {0}")]
    Build(String),
}

/// Checks that `value` is a mailbox (`Name <address>` or a bare address); the error text is
/// shown after the settings key.
pub fn check_mailbox(value: &str) -> Result<(), String> {
    parse_mailbox(value)
        .map(|_| ())
        .map_err(|e| format!("`{value}` is not an email address ({e})"))
}

fn parse_mailbox(value: &str) -> Result<Mailbox, lettre::address::AddressError> {
    value.trim().parse::<Mailbox>()
}

fn mailbox(value: &str) -> Result<Mailbox, EmailError> {
    parse_mailbox(value).map_err(|e| EmailError::Mailbox {
        value: value.to_owned(),
        reason: e.to_string(),
    })
}

/// The report message: To Kela, From and Cc from the settings, UTF-8 plain text.
pub fn build_message(
    settings: &Settings,
    subject: &str,
    body: &str,
) -> Result<Message, EmailError> {
    let mut builder = Message::builder()
        .from(mailbox(&settings.from)?)
        .to(mailbox(KANTA_ADDRESS)?)
        .subject(subject)
        .message_id(None);
    for value in &settings.cc {
        builder = builder.cc(mailbox(value)?);
    }
    let part = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned());
    builder
        .singlepart(part)
        .map_err(|e| EmailError::Build(e.to_string()))
}

/// The message as the bytes of an `.eml` file (CRLF line ends, as on the wire).
pub fn to_eml(message: &Message) -> Vec<u8> {
    message.formatted()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes_are_checked() {
        assert!(check_mailbox("Aino Arkisto <aino@example.invalid>").is_ok());
        assert!(check_mailbox("aino@example.invalid").is_ok());
        assert_eq!(
            check_mailbox("aino at example").unwrap_err(),
            "`aino at example` is not an email address (Invalid input)"
        );
    }
}
