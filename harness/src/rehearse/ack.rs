//! Reading the archive's acknowledgement (`MCCI_IN000002UV01`, DESIGN §3.5) in any wrapping:
//! its type code, detail codes and the acknowledged message id. A streaming read with
//! quick-xml that ignores namespaces prefixes and envelopes; anything else is an error naming
//! what was missing.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// What an acknowledgement says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// `AA`, `AE` or `AR`.
    pub type_code: String,
    /// The detail codes, in order.
    pub codes: Vec<String>,
    /// The acknowledged message's id (`targetMessage/id`, `root` or `root:extension`).
    pub target_message: Option<String>,
}

/// Why a reply is not an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// The body is not well-formed XML.
    #[error("the answer is not well-formed XML: {0}")]
    Xml(String),
    /// No `acknowledgement` element with a `typeCode`.
    #[error("the answer has no acknowledgement typeCode")]
    NoAcknowledgement,
}

fn local(name: &[u8]) -> &[u8] {
    name.rsplit(|b| *b == b':').next().unwrap_or(name)
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| local(a.key.as_ref()) == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// Reads an acknowledgement from an answer body.
pub fn read(body: &[u8]) -> Result<Ack, AckError> {
    let mut reader = Reader::from_reader(body);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut type_code = None;
    let mut codes = Vec::new();
    let mut target_message = None;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| AckError::Xml(e.to_string()))?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(_) => {
                path.pop();
                (None, false)
            }
            Event::DocType(_) => return Err(AckError::Xml("a DOCTYPE is not allowed".into())),
            Event::Eof => break,
            _ => (None, false),
        };
        if let Some(e) = start {
            let name = local(e.name().as_ref()).to_vec();
            let parent = path.last().map(Vec::as_slice);
            match (parent, name.as_slice()) {
                (_, b"acknowledgement") if type_code.is_none() => {
                    type_code = attr(&e, b"typeCode");
                }
                (Some(b"acknowledgementDetail"), b"code") => {
                    if let Some(c) = attr(&e, b"code") {
                        codes.push(c);
                    }
                }
                (Some(b"targetMessage"), b"id") => {
                    target_message = attr(&e, b"root").map(|root| match attr(&e, b"extension") {
                        Some(ext) => format!("{root}:{ext}"),
                        None => root,
                    });
                }
                _ => {}
            }
            if !empty {
                path.push(name);
            }
        }
        buf.clear();
    }
    Ok(Ack {
        type_code: type_code.ok_or(AckError::NoAcknowledgement)?,
        codes,
        target_message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_type_codes_and_target_in_a_soap_envelope() {
        let body = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>
<MCCI_IN000002UV01 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="AE">
<targetMessage><id root="1.2.3" extension="9"/></targetMessage>
<acknowledgementDetail typeCode="E"><code code="R2-NOT-ORGANISER" codeSystem="2.999"/><text>x</text></acknowledgementDetail>
<acknowledgementDetail typeCode="W"><code code="R1-ORGANISER-MISSING"/></acknowledgementDetail>
</acknowledgement></MCCI_IN000002UV01></s:Body></s:Envelope>"#;
        assert_eq!(
            read(body).unwrap(),
            Ack {
                type_code: "AE".into(),
                codes: vec!["R2-NOT-ORGANISER".into(), "R1-ORGANISER-MISSING".into()],
                target_message: Some("1.2.3:9".into()),
            }
        );
    }

    #[test]
    fn a_body_without_acknowledgement_is_an_error() {
        assert_eq!(
            read(b"<soap:Fault xmlns:soap='x'/>"),
            Err(AckError::NoAcknowledgement)
        );
        assert!(matches!(read(b"<a><b></a>"), Err(AckError::Xml(_))));
    }
}
