//! The report as an RFC 5322 / MIME message: lettre's message builder does the encoding
//! (UTF-8 `text/plain`, RFC 2047 headers), so no MIME is written by hand here. The `Date`
//! header is in Finnish local time ([`super::helsinki`]), not UTC as lettre writes it.

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, SinglePart};
use thiserror::Error;
use time::OffsetDateTime;

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

/// Who a message goes to: From, To and Cc mailboxes (`Name <address>` or bare addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addresses {
    /// The sender.
    pub from: String,
    /// The one recipient.
    pub to: String,
    /// Copies.
    pub cc: Vec<String>,
}

/// A UTF-8 plain-text message with a `Date` header of `date` in Finnish local time.
pub fn build_message(
    addresses: &Addresses,
    subject: &str,
    body: &str,
    date: OffsetDateTime,
) -> Result<Message, EmailError> {
    let mut builder = Message::builder()
        .from(mailbox(&addresses.from)?)
        .to(mailbox(&addresses.to)?)
        .subject(subject)
        .message_id(None);
    for value in &addresses.cc {
        builder = builder.cc(mailbox(value)?);
    }
    let part = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned());
    let mut message = builder
        .singlepart(part)
        .map_err(|e| EmailError::Build(e.to_string()))?;
    // lettre writes the Date in UTC; replace it in place with Finnish local time.
    message.headers_mut().insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Date"),
        super::helsinki::rfc5322(date),
    ));
    Ok(message)
}

/// The message as the bytes of an `.eml` file (CRLF line ends, as on the wire).
pub fn to_eml(message: &Message) -> Vec<u8> {
    message.formatted()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_header_is_in_finnish_local_time() {
        let addresses = Addresses {
            from: "a@example.invalid".to_owned(),
            to: "b@example.invalid".to_owned(),
            cc: Vec::new(),
        };
        let m = build_message(
            &addresses,
            "s",
            "b",
            time::macros::datetime!(2026-11-28 19:48:05.25 UTC),
        )
        .unwrap();
        let text = String::from_utf8(to_eml(&m)).unwrap();
        assert!(
            text.contains("Date: Sat, 28 Nov 2026 21:48:05 +0200\r\n"),
            "{text}"
        );
        assert_eq!(text.matches("Date:").count(), 1, "{text}");
    }

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
