//! The document's display form (XHTML) as plain text for the archivist view: paragraphs of
//! text, never markup. Whatever the XHTML holds — `<script>`, event-handler attributes,
//! links — only character data survives, and the template escapes that again on output.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::Event;

/// Elements that end a paragraph.
const BLOCKS: &[&[u8]] = &[
    b"p", b"div", b"br", b"li", b"tr", b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"table", b"ul",
    b"ol", b"section", b"dt", b"dd",
];

/// Elements whose content is not text for a reader (and never executed here).
const SKIPPED: &[&[u8]] = &[b"script", b"style", b"head", b"title"];

/// The paragraphs of text in an XHTML fragment, trimmed, empty ones dropped. `None` when the
/// XHTML cannot be read as XML (the view then shows the source, escaped).
pub fn paragraphs(xhtml: &str) -> Option<Vec<String>> {
    let mut reader = Reader::from_str(xhtml);
    let mut out = Vec::new();
    let mut current = String::new();
    let mut skipping = 0usize;
    let flush = |current: &mut String, out: &mut Vec<String>| {
        let text = current.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() {
            out.push(text);
        }
        current.clear();
    };
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let name = e.local_name();
                if SKIPPED.contains(&name.as_ref()) {
                    skipping += 1;
                } else if BLOCKS.contains(&name.as_ref()) {
                    flush(&mut current, &mut out);
                }
            }
            Event::End(e) => {
                let name = e.local_name();
                if SKIPPED.contains(&name.as_ref()) {
                    skipping = skipping.saturating_sub(1);
                } else if BLOCKS.contains(&name.as_ref()) {
                    flush(&mut current, &mut out);
                }
            }
            Event::Empty(e) if BLOCKS.contains(&e.local_name().as_ref()) => {
                flush(&mut current, &mut out);
            }
            Event::Text(t) if skipping == 0 => current.push_str(&t.decode().ok()?),
            Event::CData(t) if skipping == 0 => current.push_str(&t.decode().ok()?),
            Event::GeneralRef(r) if skipping == 0 => {
                let reference = format!("&{};", r.decode().ok()?);
                let resolved: Cow<'_, str> = quick_xml::escape::unescape(&reference).ok()?;
                current.push_str(&resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    flush(&mut current, &mut out);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_keep_text_and_drop_markup() {
        let xhtml = "<div class=\"soc-document\"><h1>Asiakkuusasiakirja</h1>\
                     <p>Rivi &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#228;</p>\
                     <p><img src=\"x\" onerror=\"alert(2)\"/>kuva</p>\
                     <script>alert(3)</script><p>  </p><p>loppu<br/>rivi</p></div>";
        assert_eq!(
            paragraphs(xhtml).unwrap(),
            vec![
                "Asiakkuusasiakirja",
                "Rivi <script>alert(1)</script> & ä",
                "kuva",
                "loppu",
                "rivi"
            ]
        );
    }

    #[test]
    fn unreadable_xhtml_gives_none() {
        assert_eq!(paragraphs("<p>open</div>"), None);
        assert_eq!(paragraphs("<p>&bogus;</p>"), None);
    }
}
