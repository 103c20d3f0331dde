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

/// Canonicalizes the subtree rooted at `apex`, leaving out `exclude` (and its descendants) if
/// given. `inclusive_prefixes` is the InclusiveNamespaces PrefixList (`#default` for the
/// default namespace).
pub(crate) fn canonicalize(
    doc: &Document,
    apex: NodeId,
    exclude: Option<NodeId>,
    inclusive_prefixes: &[String],
) -> Vec<u8> {
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
    let mut out = Vec::with_capacity(4096);
    let mut c = Canonicalizer {
        doc,
        exclude,
        inclusive: &inclusive,
        out: &mut out,
        in_scope,
        rendered: Vec::new(),
    };
    c.node(apex);
    out
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
    out: &'o mut Vec<u8>,
    /// Namespace bindings in scope (prefix `""` = default), innermost last.
    in_scope: Vec<(&'a str, &'a str)>,
    /// Namespace declarations rendered by output ancestors, innermost last.
    rendered: Vec<(&'a str, &'a str)>,
}

impl<'a> Canonicalizer<'a, '_> {
    fn node(&mut self, id: NodeId) {
        if Some(id) == self.exclude {
            return;
        }
        let doc = self.doc;
        match &doc.nodes[id].kind {
            NodeKind::Text(t) => escape_text(t.as_ref(), self.out),
            NodeKind::Comment => {}
            NodeKind::Pi { target, data } => {
                self.out.extend_from_slice(b"<?");
                self.out.extend_from_slice(target.as_bytes());
                if !data.is_empty() {
                    self.out.push(b' ');
                    self.out.extend_from_slice(data.as_bytes());
                }
                self.out.extend_from_slice(b"?>");
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
                for p in self.inclusive {
                    if lookup(&self.in_scope, p).is_some() {
                        candidates.push(p);
                    }
                }
                candidates.sort_unstable();
                candidates.dedup();
                self.out.push(b'<');
                write_qname(e.prefix, e.local, self.out);
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
                    escape_attr(uri, self.out);
                    self.out.push(b'"');
                    // `p` and `uri` borrow from the document (via `in_scope`/`e`).
                    let p_doc = lookup_key(&self.in_scope, p).unwrap_or("");
                    self.rendered.push((p_doc, uri));
                }
                // Documents mostly write attributes in canonical order already; only sort
                // (a list of references) when they do not.
                if e.attrs.is_sorted_by(|a, b| attr_order(a, b).is_le()) {
                    for a in &e.attrs {
                        write_attr(a, self.out);
                    }
                } else {
                    let mut attrs: Vec<_> = e.attrs.iter().collect();
                    attrs.sort_by(|a, b| attr_order(a, b));
                    for a in attrs {
                        write_attr(a, self.out);
                    }
                }
                self.out.push(b'>');
                for c in &e.children {
                    self.node(*c);
                }
                self.out.extend_from_slice(b"</");
                write_qname(e.prefix, e.local, self.out);
                self.out.push(b'>');
                self.rendered.truncate(render_mark);
                self.in_scope.truncate(scope_mark);
            }
        }
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
fn escape_text(t: &str, out: &mut Vec<u8>) {
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
    escape_with(t, out, |b| match b {
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
fn escape_with(t: &str, out: &mut Vec<u8>, escape: impl Fn(u8) -> Option<&'static [u8]>) {
    let bytes = t.as_bytes();
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
