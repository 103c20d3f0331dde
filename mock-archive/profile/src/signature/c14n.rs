//! Exclusive XML Canonicalization 1.0 without comments
//! (<http://www.w3.org/2001/10/xml-exc-c14n#>) of one element subtree, with the
//! `InclusiveNamespaces PrefixList` parameter and an optional excluded subtree (what the
//! enveloped-signature transform removes).
//!
//! The node-set is always "an element and all its descendants, minus comments, minus the
//! excluded element", which is everything a same-document `#id` Reference in the Kanta profile
//! produces; so the general XPath node-set machinery is not needed.

use super::tree::{Attr, Document, NodeId, NodeKind};

/// The exclusive C14N algorithm URI.
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// How much canonicalization one verification may do: canonical bytes produced and namespace
/// bindings scanned, over every node it canonicalizes. A document whose canonical form is far
/// larger than itself (one long namespace URI re-rendered on a hundred thousand elements, a
/// long `InclusiveNamespaces` list) is refused instead of being hashed for seconds.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    /// Canonical bytes still allowed.
    pub bytes: usize,
    /// Namespace-binding comparisons still allowed.
    pub lookups: usize,
}

impl Budget {
    /// The budget for verifying a document of `len` bytes: 4 canonical bytes per source byte
    /// (at least 1 MiB) and 64 binding comparisons per source byte (at least 16 million). A
    /// real CDA needs about 1 byte and fewer than 2 comparisons per source byte.
    pub fn for_document(len: usize) -> Self {
        Self {
            bytes: len.saturating_mul(4).max(1 << 20),
            lookups: len.saturating_mul(64).max(16 << 20),
        }
    }

    /// No limit (signing our own documents, tests).
    pub fn unlimited() -> Self {
        Self {
            bytes: usize::MAX,
            lookups: usize::MAX,
        }
    }
}

/// Canonicalization stopped because it used up its [`Budget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverBudget;

/// Canonicalizes the subtree rooted at `apex`, leaving out `exclude` (and its descendants) if
/// given. `inclusive_prefixes` is the InclusiveNamespaces PrefixList (`#default` for the
/// default namespace). The whole canonical form in memory: for the signer and for SignedInfo.
pub(crate) fn canonicalize(
    doc: &Document,
    apex: NodeId,
    exclude: Option<NodeId>,
    inclusive_prefixes: &[String],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    let mut budget = Budget::unlimited();
    let _ = stream(
        doc,
        apex,
        exclude,
        inclusive_prefixes,
        &mut budget,
        &mut |chunk| out.extend_from_slice(chunk),
    );
    out
}

/// How many canonical bytes are collected before they are handed to the sink.
const CHUNK: usize = 16 * 1024;

/// Canonicalizes like [`canonicalize`] but hands the canonical bytes to `sink` in chunks of
/// about 16 KiB (a digest, usually), so that no copy of the canonical form is kept; stops with
/// [`OverBudget`] as soon as `budget` is used up.
pub(crate) fn stream(
    doc: &Document,
    apex: NodeId,
    exclude: Option<NodeId>,
    inclusive_prefixes: &[String],
    budget: &mut Budget,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<(), OverBudget> {
    // Bindings in scope above the apex, outermost first.
    let mut chain = Vec::new();
    let mut cur = doc.parent(apex);
    while let Some(c) = cur {
        chain.push(c);
        cur = doc.parent(c);
    }
    let mut in_scope: Vec<(&str, &str)> = Vec::new();
    for c in chain.into_iter().rev() {
        for (p, u) in &doc.element(c).ns_decls {
            in_scope.push((p, u));
        }
    }
    let inclusive: Vec<&str> = inclusive_prefixes
        .iter()
        .map(|p| if p == "#default" { "" } else { p.as_str() })
        .collect();
    let mut c = Canonicalizer {
        doc,
        exclude,
        inclusive: &inclusive,
        out: Vec::with_capacity(CHUNK + 1024),
        sink,
        budget,
        in_scope,
        rendered: Vec::new(),
    };
    c.node(apex)?;
    c.flush()
}

/// The last binding of `prefix` in a stack of (prefix, URI) bindings.
fn lookup<'a>(stack: &[(&'a str, &'a str)], prefix: &str) -> Option<&'a str> {
    stack
        .iter()
        .rev()
        .find(|(p, _)| same(p, prefix))
        .map(|(_, u)| *u)
}

/// String equality without a `memcmp` call for the common empty and short cases.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

struct Canonicalizer<'a, 'o> {
    doc: &'a Document<'a>,
    exclude: Option<NodeId>,
    inclusive: &'o [&'o str],
    /// Canonical bytes not yet handed to `sink`.
    out: Vec<u8>,
    sink: &'o mut dyn FnMut(&[u8]),
    budget: &'o mut Budget,
    /// Namespace bindings in scope (prefix `""` = default), innermost last.
    in_scope: Vec<(&'a str, &'a str)>,
    /// Namespace declarations rendered by output ancestors, innermost last.
    rendered: Vec<(&'a str, &'a str)>,
}

impl<'a> Canonicalizer<'a, '_> {
    /// Hands the collected bytes to the sink, charging them to the budget.
    fn flush(&mut self) -> Result<(), OverBudget> {
        self.budget.bytes = self
            .budget
            .bytes
            .checked_sub(self.out.len())
            .ok_or(OverBudget)?;
        if !self.out.is_empty() {
            (self.sink)(&self.out);
            self.out.clear();
        }
        Ok(())
    }

    /// Flushes once a chunk has been collected.
    fn maybe_flush(&mut self) -> Result<(), OverBudget> {
        if self.out.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    /// Charges `n` binding comparisons to the budget.
    fn charge(&mut self, n: usize) -> Result<(), OverBudget> {
        self.budget.lookups = self.budget.lookups.checked_sub(n).ok_or(OverBudget)?;
        Ok(())
    }

    fn node(&mut self, id: NodeId) -> Result<(), OverBudget> {
        if Some(id) == self.exclude {
            return Ok(());
        }
        let doc = self.doc;
        match &doc.nodes[id].kind {
            NodeKind::Text(t) => {
                // Long text (a base64 body) goes out in chunks, never as one copy.
                for piece in t.as_bytes().chunks(CHUNK) {
                    escape_text(piece, &mut self.out);
                    self.maybe_flush()?;
                }
            }
            NodeKind::Comment => {}
            NodeKind::Pi { target, data } => {
                self.out.extend_from_slice(b"<?");
                self.out.extend_from_slice(target.as_bytes());
                if !data.is_empty() {
                    self.out.push(b' ');
                    self.out.extend_from_slice(data.as_bytes());
                }
                self.out.extend_from_slice(b"?>");
                self.maybe_flush()?;
            }
            NodeKind::Element(e) => {
                let scope_mark = self.in_scope.len();
                let render_mark = self.rendered.len();
                for (p, u) in &e.ns_decls {
                    self.in_scope.push((p, u));
                }
                // Visibly utilized prefixes, then the inclusive ones in scope.
                let mut candidates: Vec<&str> = Vec::with_capacity(4);
                candidates.push(e.prefix.unwrap_or(""));
                for a in &e.attrs {
                    if let Some(p) = &a.prefix {
                        candidates.push(p);
                    }
                }
                self.charge(self.inclusive.len() * self.in_scope.len())?;
                for p in self.inclusive {
                    if lookup(&self.in_scope, p).is_some() {
                        candidates.push(p);
                    }
                }
                candidates.sort_unstable();
                candidates.dedup();
                // Each candidate is looked up in both stacks (twice in scope).
                self.charge(candidates.len() * (2 * self.in_scope.len() + self.rendered.len()))?;
                self.out.push(b'<');
                write_qname(e.prefix, e.local, &mut self.out);
                for p in candidates {
                    if p == "xml" {
                        continue;
                    }
                    let uri = lookup(&self.in_scope, p).unwrap_or("");
                    let already = lookup(&self.rendered, p);
                    let render = if p.is_empty() {
                        uri != already.unwrap_or("")
                    } else {
                        already != Some(uri)
                    };
                    if !render {
                        continue;
                    }
                    if p.is_empty() {
                        self.out.extend_from_slice(b" xmlns=\"");
                    } else {
                        self.out.extend_from_slice(b" xmlns:");
                        self.out.extend_from_slice(p.as_bytes());
                        self.out.extend_from_slice(b"=\"");
                    }
                    escape_attr(uri, &mut self.out);
                    self.out.push(b'"');
                    // `p` and `uri` borrow from the document (via `in_scope`/`e`).
                    let p_doc = lookup_key(&self.in_scope, p).unwrap_or("");
                    self.rendered.push((p_doc, uri));
                }
                // Documents mostly write attributes in canonical order already; only sort
                // (a list of references) when they do not.
                if e.attrs.is_sorted_by(|a, b| attr_order(a, b).is_le()) {
                    for a in &e.attrs {
                        write_attr(a, &mut self.out);
                    }
                } else {
                    let mut attrs: Vec<_> = e.attrs.iter().collect();
                    attrs.sort_by(|a, b| attr_order(a, b));
                    for a in attrs {
                        write_attr(a, &mut self.out);
                    }
                }
                self.out.push(b'>');
                self.maybe_flush()?;
                for c in &e.children {
                    self.node(*c)?;
                }
                self.out.extend_from_slice(b"</");
                write_qname(e.prefix, e.local, &mut self.out);
                self.out.push(b'>');
                self.rendered.truncate(render_mark);
                self.in_scope.truncate(scope_mark);
            }
        }
        Ok(())
    }
}

/// The prefix string as stored in the stack (so that it borrows from the document), or
/// `""` for the default namespace when it is not bound at all.
fn lookup_key<'a>(stack: &[(&'a str, &'a str)], prefix: &str) -> Option<&'a str> {
    stack
        .iter()
        .rev()
        .find(|(p, _)| same(p, prefix))
        .map(|(p, _)| *p)
}

/// C14N attribute order: by namespace URI (none first), then local name.
fn attr_order(a: &Attr<'_>, b: &Attr<'_>) -> std::cmp::Ordering {
    match (a.ns.as_deref(), b.ns.as_deref()) {
        // The common case, unprefixed attributes: no namespace to compare.
        (None, None) => bytewise(a.local, b.local),
        (x, y) => {
            bytewise(x.unwrap_or(""), y.unwrap_or("")).then_with(|| bytewise(a.local, b.local))
        }
    }
}

/// Byte-wise string order without a `memcmp` call (names are short; the call costs more than
/// the comparison).
fn bytewise(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes().cmp(b.bytes())
}

/// One attribute, with its leading space.
fn write_attr(a: &Attr<'_>, out: &mut Vec<u8>) {
    out.push(b' ');
    write_qname(a.prefix, a.local, out);
    out.extend_from_slice(b"=\"");
    escape_attr(&a.value, out);
    out.push(b'"');
}

fn write_qname(prefix: Option<&str>, local: &str, out: &mut Vec<u8>) {
    if let Some(p) = prefix {
        out.extend_from_slice(p.as_bytes());
        out.push(b':');
    }
    out.extend_from_slice(local.as_bytes());
}

/// Text node escaping (C14N §2.3).
fn escape_text(t: &[u8], out: &mut Vec<u8>) {
    escape_with(t, out, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

/// Attribute value escaping (C14N §2.3).
fn escape_attr(t: &str, out: &mut Vec<u8>) {
    escape_with(t.as_bytes(), out, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'"' => Some(b"&quot;"),
        b'\t' => Some(b"&#x9;"),
        b'\n' => Some(b"&#xA;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

/// Copies `t` to `out`, replacing each byte `escape` names; the runs between them are copied
/// whole (one `extend_from_slice` per run, not one push per byte).
#[inline(always)]
fn escape_with(bytes: &[u8], out: &mut Vec<u8>, escape: impl Fn(u8) -> Option<&'static [u8]>) {
    out.reserve(bytes.len());
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(replacement) = escape(b) {
            out.extend_from_slice(&bytes[run..i]);
            out.extend_from_slice(replacement);
            run = i + 1;
        }
    }
    out.extend_from_slice(&bytes[run..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(src: &str, local: &str, prefixes: &[&str]) -> String {
        let doc = Document::parse(src.as_bytes()).unwrap();
        let apex = doc
            .elements()
            .find(|e| doc.element(*e).local == local)
            .unwrap();
        let prefixes: Vec<String> = prefixes.iter().map(|p| p.to_string()).collect();
        String::from_utf8(canonicalize(&doc, apex, None, &prefixes)).unwrap()
    }

    /// Streamed in chunks, the canonical form is the same bytes; a budget too small for them
    /// stops canonicalization.
    #[test]
    fn streaming_gives_the_same_bytes_and_stops_at_the_budget() {
        let text = "x&amp;y&lt;".repeat(20_000);
        let src = format!(r#"<r xmlns:a="urn:a"><a:x b="1">{text}<y/></a:x></r>"#);
        let doc = Document::parse(src.as_bytes()).unwrap();
        let apex = doc
            .elements()
            .find(|e| doc.element(*e).local == "x")
            .unwrap();
        let whole = canonicalize(&doc, apex, None, &[]);
        let mut chunks = Vec::new();
        let mut budget = Budget::for_document(src.len());
        stream(&doc, apex, None, &[], &mut budget, &mut |c| {
            chunks.push(c.to_vec())
        })
        .unwrap();
        assert!(chunks.len() > 1 && chunks.iter().all(|c| c.len() < 4 * CHUNK));
        assert_eq!(chunks.concat(), whole);
        let mut small = Budget {
            bytes: whole.len() - 1,
            lookups: usize::MAX,
        };
        assert_eq!(
            stream(&doc, apex, None, &[], &mut small, &mut |_| {}),
            Err(OverBudget)
        );
        let mut few_lookups = Budget {
            bytes: usize::MAX,
            lookups: 1,
        };
        assert_eq!(
            stream(&doc, apex, None, &[], &mut few_lookups, &mut |_| {}),
            Err(OverBudget)
        );
    }

    #[test]
    fn renders_only_visibly_utilized_namespaces_from_ancestors() {
        let src = r#"<r xmlns="urn:d" xmlns:a="urn:a" xmlns:u="urn:unused"><a:x b="2" a:c="1"><y/></a:x></r>"#;
        assert_eq!(
            c14n(src, "x", &[]),
            r#"<a:x xmlns:a="urn:a" b="2" a:c="1"><y xmlns="urn:d"></y></a:x>"#
        );
    }

    #[test]
    fn inclusive_prefix_list_renders_unused_prefixes() {
        let src = r#"<r xmlns:xsi="urn:xsi" xmlns:u="urn:u"><x/></r>"#;
        assert_eq!(
            c14n(src, "x", &["u", "#default"]),
            r#"<x xmlns:u="urn:u"></x>"#
        );
    }

    #[test]
    fn undeclares_default_namespace_when_needed() {
        let src = r#"<r xmlns="urn:d"><x><y xmlns=""/></x></r>"#;
        assert_eq!(
            c14n(src, "x", &[]),
            r#"<x xmlns="urn:d"><y xmlns=""></y></x>"#
        );
    }

    #[test]
    fn escapes_and_drops_comments_and_sorts_attributes() {
        let src = "<x z=\"&quot;\t\" a=\"&lt;&#10;\"><!-- c -->a&amp;b&gt;&#13;<?pi  d?></x>";
        assert_eq!(
            c14n(src, "x", &[]),
            "<x a=\"&lt;&#xA;\" z=\"&quot; \">a&amp;b&gt;&#xD;<?pi d?></x>"
        );
    }
}
