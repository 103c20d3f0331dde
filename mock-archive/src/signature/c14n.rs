//! Exclusive XML Canonicalization 1.0 without comments
//! (<http://www.w3.org/2001/10/xml-exc-c14n#>) of one element subtree, with the
//! `InclusiveNamespaces PrefixList` parameter and an optional excluded subtree (what the
//! enveloped-signature transform removes).
//!
//! The node-set is always "an element and all its descendants, minus comments, minus the
//! excluded element", which is everything a same-document `#id` Reference in the Kanta profile
//! produces; so the general XPath node-set machinery is not needed.

use std::collections::HashMap;

use super::tree::{Document, NodeId, NodeKind};

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
    let mut in_scope = match doc.parent(apex) {
        Some(p) => doc.in_scope_namespaces(p),
        None => HashMap::new(),
    };
    let inclusive: Vec<String> = inclusive_prefixes
        .iter()
        .map(|p| {
            if p == "#default" {
                String::new()
            } else {
                p.clone()
            }
        })
        .collect();
    let mut out = Vec::with_capacity(4096);
    let mut rendered = HashMap::new();
    let mut c = Canonicalizer {
        doc,
        exclude,
        inclusive: &inclusive,
        out: &mut out,
    };
    c.node(apex, &mut in_scope, &mut rendered);
    out
}

struct Canonicalizer<'a> {
    doc: &'a Document,
    exclude: Option<NodeId>,
    inclusive: &'a [String],
    out: &'a mut Vec<u8>,
}

impl Canonicalizer<'_> {
    /// Writes node `id`. `in_scope` and `rendered` are prefix → URI maps (`""` = default)
    /// for the namespaces in scope and those rendered by output ancestors.
    fn node(
        &mut self,
        id: NodeId,
        in_scope: &mut HashMap<String, String>,
        rendered: &mut HashMap<String, String>,
    ) {
        if Some(id) == self.exclude {
            return;
        }
        match &self.doc.nodes[id].kind {
            NodeKind::Text(t) => escape_text(t, self.out),
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
                // Scope changes made by this element, undone on the way out.
                let mut scope_undo: Vec<(String, Option<String>)> = Vec::new();
                for (p, u) in &e.ns_decls {
                    scope_undo.push((p.clone(), in_scope.insert(p.clone(), u.clone())));
                }
                // Visibly utilized prefixes, then the inclusive ones.
                let mut candidates: Vec<String> = Vec::new();
                candidates.push(e.prefix.clone().unwrap_or_default());
                for a in &e.attrs {
                    if let Some(p) = &a.prefix {
                        candidates.push(p.clone());
                    }
                }
                for p in self.inclusive {
                    if in_scope.contains_key(p) {
                        candidates.push(p.clone());
                    }
                }
                candidates.sort();
                candidates.dedup();
                let mut decls: Vec<(String, String)> = Vec::new();
                for p in candidates {
                    if p == "xml" {
                        continue;
                    }
                    let uri = in_scope.get(&p).cloned().unwrap_or_default();
                    let already = rendered.get(&p).cloned().unwrap_or_default();
                    if p.is_empty() {
                        if uri != already {
                            decls.push((p, uri));
                        }
                    } else if rendered.get(&p) != Some(&uri) {
                        debug_assert!(!already.is_empty() || !uri.is_empty());
                        decls.push((p, uri));
                    }
                }
                let mut render_undo: Vec<(String, Option<String>)> = Vec::new();
                self.out.push(b'<');
                let qname = e.qname();
                self.out.extend_from_slice(qname.as_bytes());
                for (p, u) in decls {
                    if p.is_empty() {
                        self.out.extend_from_slice(b" xmlns=\"");
                    } else {
                        self.out.extend_from_slice(b" xmlns:");
                        self.out.extend_from_slice(p.as_bytes());
                        self.out.extend_from_slice(b"=\"");
                    }
                    escape_attr(&u, self.out);
                    self.out.push(b'"');
                    render_undo.push((p.clone(), rendered.insert(p, u)));
                }
                let mut attrs: Vec<_> = e.attrs.iter().collect();
                attrs.sort_by(|a, b| {
                    (a.ns.as_deref().unwrap_or(""), a.local.as_str())
                        .cmp(&(b.ns.as_deref().unwrap_or(""), b.local.as_str()))
                });
                for a in attrs {
                    self.out.push(b' ');
                    self.out.extend_from_slice(a.qname().as_bytes());
                    self.out.extend_from_slice(b"=\"");
                    escape_attr(&a.value, self.out);
                    self.out.push(b'"');
                }
                self.out.push(b'>');
                for c in &e.children {
                    self.node(*c, in_scope, rendered);
                }
                self.out.extend_from_slice(b"</");
                self.out.extend_from_slice(qname.as_bytes());
                self.out.push(b'>');
                restore(rendered, render_undo);
                restore(in_scope, scope_undo);
            }
        }
    }
}

/// Undoes map insertions in reverse order.
fn restore(map: &mut HashMap<String, String>, undo: Vec<(String, Option<String>)>) {
    for (k, old) in undo.into_iter().rev() {
        match old {
            Some(v) => map.insert(k, v),
            None => map.remove(&k),
        };
    }
}

/// Text node escaping (C14N §2.3).
fn escape_text(t: &str, out: &mut Vec<u8>) {
    for b in t.bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            _ => out.push(b),
        }
    }
}

/// Attribute value escaping (C14N §2.3).
fn escape_attr(t: &str, out: &mut Vec<u8>) {
    for b in t.bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\t' => out.extend_from_slice(b"&#x9;"),
            b'\n' => out.extend_from_slice(b"&#xA;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            _ => out.push(b),
        }
    }
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
