//! The MIME `multipart/related` body inside `clinicalDocument/text`: headers (folded or not:
//! real senders put `boundary=` on a line of its own), the declared boundary, one part with
//! `Content-Type`, `Content-Transfer-Encoding: base64` and `Content-ID: <document OID>`, and
//! its base64 content decoded. Every problem is reported; nothing here panics.

use base64::Engine;

use super::model::MimePart;
use super::problem::{Problem, ProblemCode};

/// One header: lower-case name and unfolded value.
type Header = (String, String);

/// Splits header lines (until the first empty line) from the rest. A line that starts with
/// whitespace, or has no `name:` prefix, continues the previous header.
fn split_headers(text: &str) -> (Vec<Header>, &str) {
    let mut headers: Vec<Header> = Vec::new();
    let mut rest = text;
    loop {
        let (line, after) = match rest.find('\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            return (headers, after);
        }
        let named = line.split_once(':').filter(|(n, _)| {
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        match (named, headers.last_mut()) {
            (Some((name, value)), _) if !line.starts_with([' ', '\t']) => {
                headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
            }
            (_, Some(last)) => {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            (_, None) => headers.push((String::new(), line.trim().to_owned())),
        }
        if after.is_empty() {
            return (headers, after);
        }
        rest = after;
    }
}

fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The media type (lower case) and the parameters of a `Content-Type` value.
fn content_type(value: &str) -> (String, Vec<(String, String)>) {
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            Some((k.trim().to_ascii_lowercase(), v.to_owned()))
        })
        .collect();
    (media, params)
}

/// The outcome of reading the MIME body.
pub(crate) struct MimeRead {
    /// What was read of the part, if a part was found.
    pub part: Option<MimePart>,
    /// The decoded content, if it decoded.
    pub content: Option<Vec<u8>>,
}

/// Reads the multipart body in `text` (the text of `clinicalDocument/text`). `loc` is the
/// location of that element; `document_id` is the message's document id root, which the
/// part's `Content-ID` must name.
pub(crate) fn read(
    text: &str,
    loc: &str,
    document_id: Option<&str>,
    problems: &mut Vec<Problem>,
) -> MimeRead {
    let none = MimeRead {
        part: None,
        content: None,
    };
    let text = text.trim_start();
    let (headers, body) = split_headers(text);
    let Some(ct) = header(&headers, "content-type") else {
        problems.push(Problem::new(
            ProblemCode::MimeHeader,
            loc,
            "the MIME headers have no Content-Type",
        ));
        return none;
    };
    let (media, params) = content_type(ct);
    if media != "multipart/related" {
        problems.push(Problem::new(
            ProblemCode::MimeHeader,
            loc,
            format!("the MIME Content-Type is `{media}`, expected multipart/related"),
        ));
        return none;
    }
    let Some(boundary) = params
        .iter()
        .find(|(k, _)| k == "boundary")
        .map(|(_, v)| v.clone())
        .filter(|b| !b.is_empty())
    else {
        problems.push(Problem::new(
            ProblemCode::MimeBoundary,
            loc,
            "the multipart Content-Type declares no boundary",
        ));
        return none;
    };
    let delimiter = format!("--{boundary}");
    // Split the body into parts at delimiter lines, as slices (no copying): find each
    // occurrence of the delimiter that starts a line, and see how the line ends.
    let mut parts: Vec<&str> = Vec::new();
    let mut part_start: Option<usize> = None;
    let mut closed = false;
    let mut search = 0;
    while let Some(found) = body[search..].find(&delimiter) {
        let at = search + found;
        search = at + delimiter.len();
        if at > 0 && body.as_bytes()[at - 1] != b'\n' {
            continue;
        }
        let line_end = body[at..].find('\n').map_or(body.len(), |j| at + j + 1);
        let after = body[search..line_end].trim_end();
        if after != "--" && !after.is_empty() {
            continue;
        }
        if let Some(start) = part_start.take() {
            parts.push(&body[start..at]);
        }
        if after == "--" {
            closed = true;
            break;
        }
        part_start = Some(line_end);
        search = line_end;
    }
    if let Some(start) = part_start {
        parts.push(&body[start..]);
    }
    if parts.is_empty() {
        problems.push(Problem::new(
            ProblemCode::MimeBoundary,
            loc,
            format!("the body never uses the declared boundary `{boundary}`"),
        ));
        return none;
    }
    if !closed {
        problems.push(Problem::new(
            ProblemCode::MimeBoundary,
            loc,
            format!("the closing delimiter `--{boundary}--` is missing"),
        ));
    }
    if parts.len() > 1 {
        problems.push(Problem::new(
            ProblemCode::MimePartCount,
            loc,
            format!(
                "the multipart body holds {} parts, expected one (the CDA)",
                parts.len()
            ),
        ));
    }
    let (part_headers, content) = split_headers(parts[0]);
    let part_type = header(&part_headers, "content-type").map(str::to_owned);
    let encoding = header(&part_headers, "content-transfer-encoding").map(str::to_owned);
    let content_id = header(&part_headers, "content-id").map(|v| {
        let v = v.trim();
        v.strip_prefix('<')
            .and_then(|v| v.strip_suffix('>'))
            .unwrap_or(v)
            .to_owned()
    });
    match part_type.as_deref().map(|t| content_type(t).0) {
        Some(t) if t == "text/xml" || t == "application/xml" => {}
        Some(t) => problems.push(Problem::new(
            ProblemCode::MimeContentType,
            loc,
            format!("the MIME part's Content-Type is `{t}`, expected text/xml"),
        )),
        None => problems.push(Problem::new(
            ProblemCode::MimeContentType,
            loc,
            "the MIME part has no Content-Type",
        )),
    }
    match (&content_id, document_id) {
        (None, _) => problems.push(Problem::new(
            ProblemCode::MimeContentIdMissing,
            loc,
            "the MIME part has no Content-ID (it must be <document OID>)",
        )),
        (Some(cid), Some(doc)) if cid != doc => problems.push(Problem::new(
            ProblemCode::MimeContentIdMismatch,
            loc,
            format!("the MIME part's Content-ID is <{cid}>, but the document id is {doc}"),
        )),
        _ => {}
    }
    let is_base64 = encoding
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("base64"));
    let decoded = if is_base64 {
        decode_base64(content, loc, "the MIME part", problems)
    } else {
        problems.push(Problem::new(
            ProblemCode::MimeTransferEncoding,
            loc,
            format!(
                "the MIME part's Content-Transfer-Encoding is `{}`, expected base64",
                encoding.as_deref().unwrap_or("(none)")
            ),
        ));
        None
    };
    MimeRead {
        part: Some(MimePart {
            boundary,
            content_type: part_type,
            transfer_encoding: encoding,
            content_id,
            decoded_len: decoded.as_ref().map_or(0, Vec::len),
        }),
        content: decoded,
    }
}

/// Decodes base64 with any whitespace removed; a failure is a [`ProblemCode::Base64Invalid`]
/// naming `what`.
pub(crate) fn decode_base64(
    content: &str,
    loc: &str,
    what: &str,
    problems: &mut Vec<Problem>,
) -> Option<Vec<u8>> {
    if let Some(bytes) = decode_lines(content) {
        return Some(bytes);
    }
    // The exact way, for any other layout and for the error message.
    let mut compact = content.as_bytes().to_vec();
    compact.retain(|b| !b.is_ascii_whitespace());
    match base64::engine::general_purpose::STANDARD.decode(&compact) {
        Ok(bytes) => Some(bytes),
        Err(err) => {
            problems.push(Problem::new(
                ProblemCode::Base64Invalid,
                loc,
                format!("{what} is not valid base64: {err}"),
            ));
            None
        }
    }
}

/// The fast path of [`decode_base64`]: joins the trimmed lines (one memchr pass and
/// memcpy) and decodes once. `None` for invalid content (for example whitespace inside a
/// line); the caller then decodes the exact way.
fn decode_lines(content: &str) -> Option<Vec<u8>> {
    let mut joined = Vec::with_capacity(content.len());
    for line in content.split('\n') {
        joined.extend_from_slice(line.as_bytes().trim_ascii());
    }
    base64::engine::general_purpose::STANDARD
        .decode(&joined)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "Message-ID: <1@x>\nMIME-Version: 1.0\nContent-Type: multipart/related;\nboundary=\"b1\"\n\n--b1\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Transfer-Encoding: BASE64\r\nContent-ID: <1.2.3>\r\n\r\nPGEv\nPg==\n\n--b1--\n";

    fn run(text: &str, doc: &str) -> (MimeRead, Vec<String>) {
        let mut problems = Vec::new();
        let r = read(text, "/t", Some(doc), &mut problems);
        (r, problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn reads_unfolded_boundary_and_crlf_part() {
        let (r, p) = run(GOOD, "1.2.3");
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(r.content.unwrap(), b"<a/>");
        let part = r.part.unwrap();
        assert_eq!(part.boundary, "b1");
        assert_eq!(part.content_id.as_deref(), Some("1.2.3"));
    }

    #[test]
    fn reports_each_problem_with_exact_text() {
        let (_, p) = run(GOOD, "1.2.4");
        assert_eq!(
            p,
            [
                "MIME_CONTENT_ID_MISMATCH at /t: the MIME part's Content-ID is <1.2.3>, but the document id is 1.2.4"
            ]
        );
        let (_, p) = run(&GOOD.replace("PGEv", "P!Ev"), "1.2.3");
        assert_eq!(
            p,
            [
                "BASE64_INVALID at /t: the MIME part is not valid base64: Invalid symbol 33, offset 1."
            ]
        );
        let (_, p) = run(&GOOD.replace("--b1--", ""), "1.2.3");
        assert_eq!(
            p,
            ["MIME_BOUNDARY at /t: the closing delimiter `--b1--` is missing"]
        );
        let (_, p) = run(&GOOD.replace("--b1", "--b2"), "1.2.3");
        assert_eq!(
            p,
            ["MIME_BOUNDARY at /t: the body never uses the declared boundary `b1`"]
        );
        let (_, p) = run(&GOOD.replace("BASE64", "8bit"), "1.2.3");
        assert_eq!(
            p,
            [
                "MIME_TRANSFER_ENCODING at /t: the MIME part's Content-Transfer-Encoding is `8bit`, expected base64"
            ]
        );
        let (_, p) = run(&GOOD.replace("Content-ID: <1.2.3>\r\n", ""), "1.2.3");
        assert_eq!(
            p,
            [
                "MIME_CONTENT_ID_MISSING at /t: the MIME part has no Content-ID (it must be <document OID>)"
            ]
        );
        let (_, p) = run(&GOOD.replace("text/xml", "image/png"), "1.2.3");
        assert_eq!(
            p,
            [
                "MIME_CONTENT_TYPE at /t: the MIME part's Content-Type is `image/png`, expected text/xml"
            ]
        );
        let (_, p) = run("hello", "1.2.3");
        assert_eq!(
            p,
            ["MIME_HEADER at /t: the MIME headers have no Content-Type"]
        );
        let (_, p) = run("Content-Type: text/plain\n\nx", "1.2.3");
        assert_eq!(
            p,
            [
                "MIME_HEADER at /t: the MIME Content-Type is `text/plain`, expected multipart/related"
            ]
        );
        let (_, p) = run("Content-Type: multipart/related\n\nx", "1.2.3");
        assert_eq!(
            p,
            ["MIME_BOUNDARY at /t: the multipart Content-Type declares no boundary"]
        );
        let two = GOOD.replace("--b1--", "--b1\nContent-Type: text/xml\n\n--b1--");
        let (_, p) = run(&two, "1.2.3");
        assert_eq!(
            p,
            ["MIME_PART_COUNT at /t: the multipart body holds 2 parts, expected one (the CDA)"]
        );
    }

    #[test]
    fn base64_layouts() {
        let mut problems = Vec::new();
        let mut d = |s: &str| decode_base64(s, "/t", "x", &mut problems);
        assert_eq!(d("QUJD\nREVG\nRw==\n").unwrap(), b"ABCDEFG");
        assert_eq!(d("  QUJDREVGRw==  ").unwrap(), b"ABCDEFG");
        assert_eq!(d("QUJ\nDREVGRw==").unwrap(), b"ABCDEFG");
        assert_eq!(d("QU JD\r\nREVGRw==").unwrap(), b"ABCDEFG");
        assert_eq!(d("").unwrap(), b"");
        assert!(d("QQ==\nQUJD").is_none());
        assert!(d("QUJD\nRE*G").is_none());
        assert_eq!(problems.len(), 2);
        assert_eq!(
            problems[0].message,
            "x is not valid base64: Invalid symbol 61, offset 2."
        );
    }

    proptest::proptest! {
        #[test]
        fn line_decoding_equals_whole_decoding(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300), width in 1usize..90) {
            use base64::Engine;
            let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
            let wrapped: Vec<String> = encoded.as_bytes().chunks(width).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
            let mut problems = Vec::new();
            let decoded = decode_base64(&wrapped.join("\r\n"), "/t", "x", &mut problems);
            proptest::prop_assert_eq!(decoded, Some(data));
        }

        #[test]
        fn arbitrary_text_never_panics(s in "[-a-zA-Z:;=\"<>\n\r /=+0-9]{0,300}") {
            let mut problems = Vec::new();
            let _ = read(&s, "/t", Some("1.2"), &mut problems);
            let _ = read(&format!("Content-Type: multipart/related; boundary=b\n\n--b\n{s}"), "/t", None, &mut problems);
        }
    }
}
