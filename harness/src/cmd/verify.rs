//! `kantakoe verify`: checks the system signature of a bare CDA document or of the CDA inside
//! an HL7 V3 message, says which check failed, and with `--explain` prints each Reference's
//! canonical bytes and digests so that a vendor can diff them against their own
//! implementation. Exit codes: 0 valid, 1 invalid signature, 2 usage or environment error.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mock_archive::ack::AckCode;
use mock_archive::signature::{
    self, Entitlement, Trust, Verification, VerifyOptions, certificates_from_pem,
};
use time::OffsetDateTime;

/// Arguments of `kantakoe verify`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("trust-source").required(true).args(["trust", "trust_embedded"])))]
pub struct Args {
    /// The CDA document or HL7 V3 message to check.
    pub file: PathBuf,
    /// Check certificate validity at this time (RFC 3339, HL7 TS with zone, or YYYY-MM-DD as
    /// midnight UTC) instead of the signature timestamp.
    #[arg(long, value_parser = parse_at)]
    pub at: Option<OffsetDateTime>,
    /// A PEM file of signature CA certificates the signer must chain to (repeatable).
    #[arg(long, value_name = "CA.pem")]
    pub trust: Vec<PathBuf>,
    /// Trust the certificate embedded in the signature (for checking canonicalization and
    /// digests only; never what an archive does).
    #[arg(long)]
    pub trust_embedded: bool,
    /// A vendor registered as acting for a client organisation: VENDOR_OID=CLIENT_OID
    /// (repeatable).
    #[arg(long, value_name = "VENDOR_OID=CLIENT_OID", value_parser = parse_vendor)]
    pub vendor: Vec<(String, String)>,
    /// Print the canonical bytes and the digests of each Reference and of SignedInfo.
    #[arg(long)]
    pub explain: bool,
}

/// Reads `--at`.
pub fn parse_at(text: &str) -> Result<OffsetDateTime, String> {
    if let Some(t) = signature::parse_time(text) {
        return Ok(t);
    }
    let date_fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &date_fmt)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| format!("`{text}` is not a time (RFC 3339, HL7 TS with zone, or YYYY-MM-DD)"))
}

fn parse_vendor(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((v, c)) if !v.is_empty() && !c.is_empty() => Ok((v.to_owned(), c.to_owned())),
        _ => Err(format!("`{text}` is not VENDOR_OID=CLIENT_OID")),
    }
}

/// Runs `kantakoe verify`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (report, valid) = check(&args)?;
    print!("{report}");
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Does the work of `kantakoe verify`: the report text and whether the signature is valid.
/// `Err` is a usage or environment error (unreadable file, no CDA in the message, bad CA file).
pub fn check(args: &Args) -> anyhow::Result<(String, bool)> {
    let input =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let (cda, origin) = cda_of(&input).with_context(|| format!("in {}", args.file.display()))?;
    let trust = if args.trust_embedded {
        Trust::Embedded
    } else {
        let mut cas = Vec::new();
        for path in &args.trust {
            let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            cas.extend(
                certificates_from_pem(&pem).with_context(|| format!("in {}", path.display()))?,
            );
        }
        Trust::Cas(cas)
    };
    let opts = VerifyOptions {
        trust,
        at: args.at,
        entitlement: if args.vendor.is_empty() {
            Entitlement::OwnOnly
        } else {
            Entitlement::Vendors(args.vendor.clone())
        },
        keep_canonical: args.explain,
    };
    let v = signature::verify(&cda, &opts);
    let text = report(&args.file.display().to_string(), &origin, &v, args.explain);
    Ok((text, v.is_valid()))
}

/// The human-readable report.
fn report(file: &str, origin: &str, v: &Verification, explain: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "file: {file} ({origin})");
    if let Some(s) = &v.signer {
        let _ = writeln!(
            out,
            "signer: {} (organisation OID {}; issuer {}; valid {} .. {})",
            s.subject,
            s.organisation_oid.as_deref().unwrap_or("none"),
            s.issuer,
            fmt(s.not_before),
            fmt(s.not_after)
        );
    }
    if let Some(t) = &v.timestamp_text {
        let _ = writeln!(out, "signature timestamp: {t}");
    }
    if let Some(t) = v.checked_at {
        let _ = writeln!(out, "certificates checked at: {}", fmt(t));
    }
    if let Some(m) = &v.signature_method {
        let _ = writeln!(out, "signature method: {m}");
    }
    if v.author_organisations.is_empty() {
        let _ = writeln!(
            out,
            "author organisation: none named (no author organisation or service unit; the signer's entitlement is not checked)"
        );
    } else {
        let _ = writeln!(
            out,
            "author organisation: {}",
            v.author_organisations.join(", ")
        );
    }
    for r in &v.references {
        let state = match &r.computed {
            None => "not computed",
            Some(_) if r.digest_ok() => "digest ok",
            Some(_) => "DIGEST MISMATCH",
        };
        let _ = writeln!(
            out,
            "reference {} ({}, {}): {state}",
            r.uri,
            r.role,
            r.target.as_deref().unwrap_or("unresolved")
        );
        if explain {
            let _ = writeln!(out, "  digest method: {}", r.digest_method);
            let _ = writeln!(out, "  DigestValue:   {}", r.expected);
            let _ = writeln!(
                out,
                "  computed:      {}",
                r.computed.as_deref().unwrap_or("-")
            );
            let _ = writeln!(
                out,
                "  canonical bytes ({} bytes) follow between the markers:",
                r.canonical.len()
            );
            let _ = writeln!(out, "-----BEGIN CANONICAL {}-----", r.uri);
            let _ = writeln!(out, "{}", String::from_utf8_lossy(&r.canonical));
            let _ = writeln!(out, "-----END CANONICAL {}-----", r.uri);
        }
    }
    if explain && !v.signed_info_canonical.is_empty() {
        let sha = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &v.signed_info_canonical);
        let _ = writeln!(
            out,
            "canonical SignedInfo ({} bytes, SHA-256 {}) follows between the markers:",
            v.signed_info_canonical.len(),
            STANDARD.encode(sha.as_ref())
        );
        let _ = writeln!(out, "-----BEGIN CANONICAL SignedInfo-----");
        let _ = writeln!(out, "{}", String::from_utf8_lossy(&v.signed_info_canonical));
        let _ = writeln!(out, "-----END CANONICAL SignedInfo-----");
    }
    if v.is_valid() {
        let _ = writeln!(out, "result: VALID");
    } else {
        let n = v.problems.len();
        let _ = writeln!(
            out,
            "result: INVALID ({n} problem{})",
            if n == 1 { "" } else { "s" }
        );
        // The acknowledgement's code is the problem's one name (`SIG-NOT-ALLOWED`, ...).
        for p in &v.problems {
            let _ = writeln!(out, "{}: {}", AckCode::for_signature(p.code), p.message);
        }
    }
    out
}

fn fmt(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// Where the CDA sits inside an HL7 V3 message, so that `kantakoe sign` can put a signed one
/// back in its place.
#[derive(Debug, Clone)]
pub(crate) struct MessageCda {
    /// The CDA's bytes (decoded from the MIME part).
    pub cda: Vec<u8>,
    /// The MIME part's `Content-ID`.
    pub cid: String,
    /// Whether the part is base64-encoded (`replace` always writes base64).
    pub base64: bool,
    /// The byte range of `clinicalDocument/text`'s content in the message.
    pub content: std::ops::Range<usize>,
    /// Whether that content is one CDATA section.
    pub cdata: bool,
    /// The MIME text (the content unescaped, line ends as written).
    pub mime: String,
    /// The byte range of the CDA part's base64 body in `mime`.
    pub body: std::ops::Range<usize>,
}

impl MessageCda {
    /// The message with `cda` in place of the old CDA: the same MIME part, its body the new
    /// CDA in base64 (76-character lines, the MIME's own line ends), everything else as it was
    /// (the MIME text is escaped afresh only if the old body cannot be found verbatim).
    pub fn replace(&self, message: &str, cda: &[u8]) -> String {
        let eol = if self.mime.contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        let b64 = STANDARD.encode(cda);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        let new_body = lines.join(eol);
        // Base64 needs no escaping, so the old body is in the message as it is in the MIME:
        // replace just that, and every other byte stays as written.
        let raw = &message[self.content.clone()];
        let old_body = &self.mime[self.body.clone()];
        if !old_body.is_empty()
            && let Some(at) = raw.find(old_body)
            && raw.matches(old_body).count() == 1
        {
            let start = self.content.start + at;
            return format!(
                "{}{new_body}{}",
                &message[..start],
                &message[start + old_body.len()..]
            );
        }
        let mime = format!(
            "{}{new_body}{}",
            &self.mime[..self.body.start],
            &self.mime[self.body.end..]
        );
        let content = if self.cdata {
            format!("<![CDATA[{mime}]]>")
        } else {
            mime.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        format!(
            "{}{content}{}",
            &message[..self.content.start],
            &message[self.content.end..]
        )
    }
}

/// The CDA to verify: the file itself, or the CDA in the MIME part inside an HL7 V3 message's
/// `clinicalDocument/text`. Also says where it came from.
fn cda_of(input: &[u8]) -> anyhow::Result<(Vec<u8>, String)> {
    match message_cda(input)? {
        None => Ok((input.to_vec(), "bare CDA document".to_owned())),
        Some(m) => Ok((m.cda, format!("CDA from the message's MIME part {}", m.cid))),
    }
}

/// `None` for a bare CDA document; else where the CDA is inside the message.
///
/// A small reader kept private here on purpose; the format layer's message reader replaces it.
pub(crate) fn message_cda(input: &[u8]) -> anyhow::Result<Option<MessageCda>> {
    let text = std::str::from_utf8(input).context("the file is not UTF-8")?;
    let first = root_name(text).context("no root element found")?;
    let local = first.rsplit(':').next().unwrap_or(first);
    if local == "ClinicalDocument" {
        return Ok(None);
    }
    let cd = find_tag(text, 0, "clinicalDocument").with_context(|| {
        format!(
            "`{first}` is neither a ClinicalDocument nor a message with subject/clinicalDocument"
        )
    })?;
    let (content_start, content_end) = element_content(text, cd, "text")
        .context("the message's clinicalDocument has no text element")?;
    let raw = &text[content_start..content_end];
    let trimmed = raw.trim();
    let cdata = trimmed.starts_with("<![CDATA[")
        && trimmed.ends_with("]]>")
        && trimmed.matches("<![CDATA[").count() == 1;
    let mime = unescape(raw);
    let (cda, cid, body, base64) = cda_from_mime(&mime)?;
    Ok(Some(MessageCda {
        cda,
        cid,
        base64,
        content: content_start..content_end,
        cdata,
        mime,
        body,
    }))
}

/// The qualified name of the root element.
fn root_name(text: &str) -> Option<&str> {
    let mut rest = text;
    loop {
        let i = rest.find('<')?;
        let after = &rest[i + 1..];
        if after.starts_with('?') || after.starts_with('!') {
            rest = &after[1..];
            continue;
        }
        let end = after.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
        return Some(&after[..end]);
    }
}

/// The offset of the first start tag with local name `local` at or after `from`.
fn find_tag(text: &str, from: usize, local: &str) -> Option<usize> {
    let mut pos = from;
    while let Some(i) = text[pos..].find('<') {
        let start = pos + i;
        let after = &text[start + 1..];
        let end = after.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
        let name = &after[..end];
        if name.rsplit(':').next() == Some(local) && !name.starts_with('/') {
            return Some(start);
        }
        pos = start + 1;
    }
    None
}

/// The content range of the first `local` element after `from`.
fn element_content(text: &str, from: usize, local: &str) -> Option<(usize, usize)> {
    let start = find_tag(text, from, local)?;
    let open_end = start + text[start..].find('>')? + 1;
    if text[..open_end].ends_with("/>") {
        return Some((open_end, open_end));
    }
    let after = &text[start + 1..];
    let name_end = after.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
    let qname = &after[..name_end];
    let close = format!("</{qname}>");
    let end = open_end + text[open_end..].find(&close)?;
    Some((open_end, end))
}

/// Replaces the predefined entities and character references; strips CDATA markers.
fn unescape(s: &str) -> String {
    let s = s.replace("<![CDATA[", "").replace("]]>", "");
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let Some(end) = rest[i..].find(';') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let name = &rest[i + 1..i + end];
        let c = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => out.push(c),
            None => out.push_str(&rest[i..=i + end]),
        }
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The base64 CDA part of a `multipart/related` MIME text (any line ends): its bytes, its
/// Content-ID, the range of its body in `mime`, and whether it is base64-encoded.
#[allow(clippy::type_complexity)]
fn cda_from_mime(mime: &str) -> anyhow::Result<(Vec<u8>, String, std::ops::Range<usize>, bool)> {
    let boundary = mime
        .split("boundary=")
        .nth(1)
        .map(|b| {
            let b = b.trim_start();
            match b.strip_prefix('"') {
                Some(q) => q.split('"').next().unwrap_or(""),
                None => b
                    .split(|c: char| c.is_whitespace() || c == ';')
                    .next()
                    .unwrap_or(""),
            }
        })
        .filter(|b| !b.is_empty())
        .context("clinicalDocument/text holds no multipart MIME (no boundary parameter)")?;
    let delimiter = format!("--{boundary}");
    // Where each delimiter line starts (the first is not preceded by a line end).
    let starts: Vec<usize> = mime
        .match_indices(&delimiter)
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || mime[..i].ends_with('\n'))
        .collect();
    for pair in starts.windows(2) {
        let part_start = pair[0] + delimiter.len();
        if mime[part_start..].starts_with("--") {
            break;
        }
        // The part ends at the line end before the next delimiter.
        let mut part_end = pair[1];
        if mime[..part_end].ends_with("\r\n") {
            part_end -= 2;
        } else if mime[..part_end].ends_with('\n') {
            part_end -= 1;
        }
        let part = &mime[part_start..part_end];
        let Some((blank, blank_len)) = ["\r\n\r\n", "\n\n", "\n\r\n"]
            .iter()
            .filter_map(|sep| part.find(sep).map(|i| (i, sep.len())))
            .min()
        else {
            continue;
        };
        let headers = &part[..blank];
        let body = part_start + blank + blank_len..part_end;
        let header = |name: &str| {
            headers.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_owned())
            })
        };
        let encoding = header("Content-Transfer-Encoding").unwrap_or_default();
        let cid = header("Content-ID").unwrap_or_else(|| "(no Content-ID)".into());
        let text = &mime[body.clone()];
        let bytes = if encoding.eq_ignore_ascii_case("base64") {
            let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            STANDARD
                .decode(clean)
                .with_context(|| format!("MIME part {cid} is not valid base64"))?
        } else {
            text.as_bytes().to_vec()
        };
        if std::str::from_utf8(&bytes).is_ok_and(|s| s.contains("ClinicalDocument")) {
            let base64 = encoding.eq_ignore_ascii_case("base64");
            return Ok((bytes, cid, body, base64));
        }
    }
    bail!("no MIME part in clinicalDocument/text holds a ClinicalDocument")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cda_from_a_message() {
        let cda = "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>";
        let mime = format!(
            "Content-Type: multipart/related;\r\nboundary=\"b1\"\r\n\r\n--b1\r\n\
             Content-Type: text/xml\r\nContent-Transfer-Encoding: BASE64\r\n\
             Content-ID: &lt;1.2.3&gt;\r\n\r\n{}\r\n--b1--\r\n",
            STANDARD.encode(cda)
        );
        let msg = format!(
            "<?xml version=\"1.0\"?><RCMR_IN200002FI01 xmlns=\"urn:hl7-org:v3\"><controlActProcess>\
             <subject><clinicalDocument><text mediaType=\"multipart/related\">{mime}</text>\
             </clinicalDocument></subject></controlActProcess></RCMR_IN200002FI01>"
        );
        let (bytes, origin) = cda_of(msg.as_bytes()).unwrap();
        assert_eq!(bytes, cda.as_bytes());
        assert_eq!(origin, "CDA from the message's MIME part <1.2.3>");
    }

    #[test]
    fn says_when_a_message_has_no_mime_part() {
        let msg = "<RCMR_IN200002FI01 xmlns=\"urn:hl7-org:v3\"><subject><clinicalDocument>\
                   <text>placeholder</text></clinicalDocument></subject></RCMR_IN200002FI01>";
        let err = cda_of(msg.as_bytes()).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "clinicalDocument/text holds no multipart MIME (no boundary parameter)"
        );
    }

    #[test]
    fn reads_at_times() {
        assert_eq!(
            parse_at("2017-09-22").unwrap().unix_timestamp(),
            1_506_038_400
        );
        assert_eq!(
            parse_at("2017-09-22T12:15:52Z").unwrap().unix_timestamp(),
            1_506_082_552
        );
        assert_eq!(
            parse_at("yesterday").unwrap_err(),
            "`yesterday` is not a time (RFC 3339, HL7 TS with zone, or YYYY-MM-DD)"
        );
    }
}
