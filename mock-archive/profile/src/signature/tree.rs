//! A small, namespace-aware, read-only XML tree over quick-xml, made for signature work: every
//! element remembers the byte positions of its tags in the source (so that the signer can insert
//! text and the verifier can point at places), text is stored after XML 1.0 end-of-line and
//! attribute-value normalization (what C14N needs), and the parser refuses what a signature
//! verifier must not process: DOCTYPE (and so entity declarations), unknown entities, unbound
//! prefixes, non-UTF-8 input, too deep nesting and too large input.

use std::borrow::Cow;
use std::rc::Rc;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// The namespace bound to the `xml` prefix.
pub(crate) const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The largest document accepted, in bytes.
pub(crate) const MAX_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;
/// The deepest element nesting accepted.
pub(crate) const MAX_DEPTH: usize = 256;
/// The most nodes (elements, text runs, comments, PIs) accepted: a 20 KB CDA has about 500;
/// the limit bounds memory for hostile input of the largest accepted size.
pub(crate) const MAX_NODES: usize = 500_000;
/// The most attributes accepted on one element (duplicate checks are quadratic).
pub(crate) const MAX_ATTRIBUTES: usize = 256;

/// Index of a node in [`Document::nodes`].
pub(crate) type NodeId = usize;

/// A document that could not be read as XML for signature work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// The XML is not well-formed.
    #[error("malformed XML at byte {position}: {message}")]
    Malformed {
        /// Byte offset where the problem was found.
        position: usize,
        /// What is wrong.
        message: String,
    },
    /// The document has a DOCTYPE declaration (refused: entity expansion and external entities).
    #[error("a DOCTYPE declaration at byte {position} is refused")]
    Doctype {
        /// Byte offset of the declaration.
        position: usize,
    },
    /// An entity reference other than the five predefined ones or a character reference.
    #[error("unknown entity reference `&{name};` at byte {position}")]
    UnknownEntity {
        /// The entity name.
        name: String,
        /// Byte offset of the reference.
        position: usize,
    },
    /// A prefix used without a namespace declaration in scope.
    #[error("unbound namespace prefix `{prefix}` at byte {position}")]
    UnboundPrefix {
        /// The prefix.
        prefix: String,
        /// Byte offset of the element.
        position: usize,
    },
    /// The document declares an encoding other than UTF-8, or its bytes are not UTF-8.
    #[error("the document is not UTF-8 ({0})")]
    Encoding(String),
    /// Elements nested deeper than 256 levels.
    #[error("elements nested deeper than {MAX_DEPTH} levels at byte {position}")]
    TooDeep {
        /// Byte offset of the element that is too deep.
        position: usize,
    },
    /// More than 500,000 nodes.
    #[error("more than {MAX_NODES} nodes at byte {position}")]
    TooManyNodes {
        /// Byte offset where the limit was reached.
        position: usize,
    },
    /// More than 256 attributes on one element.
    #[error("more than {MAX_ATTRIBUTES} attributes on the element at byte {position}")]
    TooManyAttributes {
        /// Byte offset of the element.
        position: usize,
    },
    /// The document is larger than 32 MiB.
    #[error("the document is {0} bytes, more than the {MAX_DOCUMENT_BYTES} accepted")]
    TooLarge(usize),
    /// The document has no root element.
    #[error("the document has no root element")]
    NoRoot,
}

/// Byte positions of an element's tags in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    /// Offset of the `<` of the start tag.
    pub start: usize,
    /// Offset just after the `>` of the start tag (for an empty-element tag, its end).
    pub start_tag_end: usize,
    /// Offset of the `<` of the end tag (equal to `start_tag_end` for an empty-element tag).
    pub end_tag_start: usize,
    /// Offset just after the element.
    pub end: usize,
}

impl Span {
    /// Whether the element was written as an empty-element tag (`<a/>`).
    pub fn is_empty_tag(&self) -> bool {
        self.start_tag_end == self.end
    }
}

/// One attribute, its value normalized as an XML processor would.
#[derive(Debug, Clone)]
pub(crate) struct Attr<'s> {
    /// The prefix, if any.
    pub prefix: Option<&'s str>,
    /// The local name.
    pub local: &'s str,
    /// The namespace URI (none for unprefixed attributes).
    pub ns: Option<Rc<str>>,
    /// The normalized value.
    pub value: Cow<'s, str>,
}

/// An element node.
#[derive(Debug, Clone)]
pub(crate) struct Element<'s> {
    /// The prefix, if any.
    pub prefix: Option<&'s str>,
    /// The local name.
    pub local: &'s str,
    /// The namespace URI, if the element is in one.
    pub ns: Option<Rc<str>>,
    /// Namespace declarations on this element: (prefix, URI); the default namespace has
    /// prefix `""`, and an undeclaration (`xmlns=""`) has URI `""`.
    pub ns_decls: Vec<(&'s str, Cow<'s, str>)>,
    /// The attributes other than namespace declarations, in document order.
    pub attrs: Vec<Attr<'s>>,
    /// Child nodes in document order.
    pub children: Vec<NodeId>,
    /// Tag positions.
    pub span: Span,
}

impl Element<'_> {
    /// The qualified name as written.
    pub fn qname(&self) -> String {
        match self.prefix {
            Some(p) => format!("{p}:{}", self.local),
            None => self.local.to_owned(),
        }
    }

    /// Whether this element has namespace `ns` and local name `local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.ns.as_deref() == Some(ns)
    }

    /// The value of the unprefixed attribute `local`.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.prefix.is_none() && a.local == local)
            .map(|a| a.value.as_ref())
    }
}

/// What a node is.
#[derive(Debug, Clone)]
pub(crate) enum NodeKind<'s> {
    /// An element.
    Element(Element<'s>),
    /// Character data (text and CDATA sections, normalized).
    Text(Cow<'s, str>),
    /// A comment (its content is not kept: exclusive C14N without comments drops it).
    Comment,
    /// A processing instruction.
    Pi {
        /// The target.
        target: &'s str,
        /// The data after the target, without the separating whitespace.
        data: &'s str,
    },
}

/// A node and its parent.
#[derive(Debug, Clone)]
pub(crate) struct Node<'s> {
    /// What it is.
    pub kind: NodeKind<'s>,
    /// The parent element, `None` for the root element and top-level PIs/comments.
    pub parent: Option<NodeId>,
}

/// A parsed document.
#[derive(Debug, Clone)]
pub(crate) struct Document<'s> {
    /// All nodes; children refer to them by index.
    pub nodes: Vec<Node<'s>>,
    /// The root element.
    pub root: NodeId,
}

impl<'s> Document<'s> {
    /// Parses `src`, refusing DOCTYPE, unknown entities, non-UTF-8 and oversized input.
    pub fn parse(src: &'s [u8]) -> Result<Self, XmlError> {
        if src.len() > MAX_DOCUMENT_BYTES {
            return Err(XmlError::TooLarge(src.len()));
        }
        let text = std::str::from_utf8(src).map_err(|e| XmlError::Encoding(e.to_string()))?;
        Parser::new(text).run()
    }

    /// The element at `id`; panics if `id` is not an element (an internal invariant).
    pub fn element(&self, id: NodeId) -> &Element<'s> {
        match &self.nodes[id].kind {
            NodeKind::Element(e) => e,
            other => panic!("node {id} is not an element: {other:?}"),
        }
    }

    /// The element at `id`, if it is one.
    pub fn as_element(&self, id: NodeId) -> Option<&Element<'s>> {
        match &self.nodes[id].kind {
            NodeKind::Element(e) => Some(e),
            _ => None,
        }
    }

    /// The parent element of `id`.
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.nodes[id].parent
    }

    /// The element children of `id`.
    pub fn child_elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.element(id)
            .children
            .iter()
            .copied()
            .filter(|c| self.as_element(*c).is_some())
    }

    /// The element children of `id` named `{ns}local`.
    pub fn children_named<'q>(
        &'q self,
        id: NodeId,
        ns: &'q str,
        local: &'q str,
    ) -> impl Iterator<Item = NodeId> + 'q {
        self.child_elements(id)
            .filter(move |c| self.element(*c).is(ns, local))
    }

    /// The first element child of `id` named `{ns}local`.
    pub fn child(&self, id: NodeId, ns: &str, local: &str) -> Option<NodeId> {
        self.children_named(id, ns, local).next()
    }

    /// The concatenated text of `id`'s descendants.
    pub fn text(&self, id: NodeId) -> String {
        let mut out = String::new();
        self.collect_text(id, &mut out);
        out
    }

    fn collect_text(&self, id: NodeId, out: &mut String) {
        match &self.nodes[id].kind {
            NodeKind::Text(t) => out.push_str(t),
            NodeKind::Element(e) => {
                for c in &e.children {
                    self.collect_text(*c, out);
                }
            }
            _ => {}
        }
    }

    /// All elements in document order.
    pub fn elements(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len()).filter(|i| self.as_element(*i).is_some())
    }

    /// A path of local names from the root to `id`, e.g. `/ClinicalDocument/component`, with
    /// a 1-based position where an element has same-named siblings (`signature[2]`).
    pub fn path(&self, id: NodeId) -> String {
        let mut names = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            let local = self.element(c).local;
            let step = match self.parent(c) {
                Some(p) => {
                    let same: Vec<NodeId> = self
                        .child_elements(p)
                        .filter(|s| self.element(*s).local == local)
                        .collect();
                    if same.len() > 1 {
                        let pos = same.iter().position(|s| *s == c).unwrap_or(0) + 1;
                        format!("{local}[{pos}]")
                    } else {
                        local.to_owned()
                    }
                }
                None => local.to_owned(),
            };
            names.push(step);
            cur = self.parent(c);
        }
        names.reverse();
        format!("/{}", names.join("/"))
    }
}

/// The parser state.
struct Parser<'a> {
    src: &'a str,
    nodes: Vec<Node<'a>>,
    /// Open elements.
    stack: Vec<NodeId>,
    /// Namespace bindings in scope, innermost last: (prefix, URI).
    bindings: Vec<(&'a str, Rc<str>)>,
    /// The `xml` namespace, shared.
    xml_ns: Rc<str>,
    /// For each open element, the length of `bindings` before its declarations.
    marks: Vec<usize>,
    root: Option<NodeId>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Self {
            src,
            nodes: Vec::with_capacity(src.len() / 40 + 16),
            stack: Vec::new(),
            bindings: Vec::new(),
            marks: Vec::new(),
            xml_ns: Rc::from(XML_NS),
            root: None,
        }
    }

    fn run(mut self) -> Result<Document<'a>, XmlError> {
        let mut reader = Reader::from_str(self.src);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        config.check_comments = true;
        loop {
            let before = reader.buffer_position() as usize;
            let event = reader.read_event().map_err(|e| XmlError::Malformed {
                position: reader.error_position() as usize,
                message: e.to_string(),
            })?;
            let after = reader.buffer_position() as usize;
            if self.nodes.len() >= MAX_NODES {
                return Err(XmlError::TooManyNodes { position: before });
            }
            match event {
                Event::Start(start) => {
                    let id = self.open(&start, before, after)?;
                    self.stack.push(id);
                    if self.stack.len() > MAX_DEPTH {
                        return Err(XmlError::TooDeep { position: before });
                    }
                }
                Event::Empty(start) => {
                    let id = self.open(&start, before, after)?;
                    if let NodeKind::Element(e) = &mut self.nodes[id].kind {
                        e.span.end_tag_start = after;
                        e.span.end = after;
                    }
                    self.close_scope();
                }
                Event::End(_) => {
                    let id = self.stack.pop().ok_or_else(|| XmlError::Malformed {
                        position: before,
                        message: "end tag without a start tag".into(),
                    })?;
                    if let NodeKind::Element(e) = &mut self.nodes[id].kind {
                        e.span.end_tag_start = before;
                        e.span.end = after;
                    }
                    self.close_scope();
                }
                Event::Text(text) => {
                    let raw = self.borrow(&text, before)?;
                    self.text(normalize_eol(raw), before)?;
                }
                Event::CData(cdata) => {
                    let raw = self.borrow(&cdata, before)?;
                    self.text(normalize_eol(raw), before)?;
                }
                Event::GeneralRef(r) => {
                    let name =
                        std::str::from_utf8(&r).map_err(|e| XmlError::Encoding(e.to_string()))?;
                    let resolved = resolve_reference(name, before)?;
                    self.text(Cow::Owned(resolved), before)?;
                }
                Event::Comment(_) => {
                    if !self.stack.is_empty() {
                        self.push_child(NodeKind::Comment);
                    }
                }
                Event::PI(pi) => {
                    let target = self.borrow(pi.target(), before)?;
                    let data = self.borrow(pi.content(), before)?.trim_start();
                    if !self.stack.is_empty() {
                        self.push_child(NodeKind::Pi { target, data });
                    }
                }
                Event::Decl(decl) => {
                    if let Some(enc) = decl.encoding() {
                        let enc = enc.map_err(|e| XmlError::Malformed {
                            position: before,
                            message: e.to_string(),
                        })?;
                        if !enc.eq_ignore_ascii_case(b"utf-8") {
                            return Err(XmlError::Encoding(format!(
                                "declared encoding {}",
                                String::from_utf8_lossy(&enc)
                            )));
                        }
                    }
                }
                Event::DocType(_) => return Err(XmlError::Doctype { position: before }),
                Event::Eof => break,
            }
        }
        if let Some(open) = self.stack.last() {
            return Err(XmlError::Malformed {
                position: self.src.len(),
                message: format!("element `{}` is not closed", self.element_qname(*open)),
            });
        }
        let root = self.root.ok_or(XmlError::NoRoot)?;
        Ok(Document {
            nodes: self.nodes,
            root,
        })
    }

    /// The URI bound to `prefix` (`""` = default) in the current scope.
    fn lookup(&self, prefix: &str) -> Option<Rc<str>> {
        self.bindings
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .map(|(_, u)| u.clone())
    }

    /// Drops the namespace bindings of the element being closed.
    fn close_scope(&mut self) {
        if let Some(mark) = self.marks.pop() {
            self.bindings.truncate(mark);
        }
    }

    /// `part`, which quick-xml has borrowed from the source, as a slice of the source.
    fn borrow(&self, part: &[u8], position: usize) -> Result<&'a str, XmlError> {
        let base = self.src.as_ptr() as usize;
        let start = (part.as_ptr() as usize).wrapping_sub(base);
        start
            .checked_add(part.len())
            .filter(|end| start <= self.src.len() && *end <= self.src.len())
            .and_then(|end| self.src.get(start..end))
            .ok_or_else(|| XmlError::Malformed {
                position,
                message: "markup that does not map to the source (escaped name?)".into(),
            })
    }

    fn element_qname(&self, id: NodeId) -> String {
        match &self.nodes[id].kind {
            NodeKind::Element(e) => e.qname(),
            _ => String::new(),
        }
    }

    fn push_child(&mut self, kind: NodeKind<'a>) -> NodeId {
        let id = self.nodes.len();
        let parent = self.stack.last().copied();
        self.nodes.push(Node { kind, parent });
        if let Some(p) = parent
            && let NodeKind::Element(e) = &mut self.nodes[p].kind
        {
            e.children.push(id);
        }
        id
    }

    fn text(&mut self, text: Cow<'a, str>, position: usize) -> Result<(), XmlError> {
        if self.stack.is_empty() {
            if text.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
                return Ok(());
            }
            return Err(XmlError::Malformed {
                position,
                message: "text outside the root element".into(),
            });
        }
        let parent = *self.stack.last().expect("checked above");
        // Merge adjacent character data (text, references, CDATA) into one node.
        if let NodeKind::Element(e) = &self.nodes[parent].kind
            && let Some(&last) = e.children.last()
            && let NodeKind::Text(t) = &mut self.nodes[last].kind
        {
            t.to_mut().push_str(&text);
            return Ok(());
        }
        self.push_child(NodeKind::Text(text));
        Ok(())
    }

    fn open(
        &mut self,
        start: &BytesStart<'_>,
        before: usize,
        after: usize,
    ) -> Result<NodeId, XmlError> {
        if self.stack.is_empty() && self.root.is_some() {
            return Err(XmlError::Malformed {
                position: before,
                message: "a second root element".into(),
            });
        }
        let qname = self.borrow(start.name().as_ref(), before)?;
        let mut ns_decls = Vec::new();
        let mut raw_attrs = Vec::new();
        for (n, attr) in start.attributes().enumerate() {
            if n >= MAX_ATTRIBUTES {
                return Err(XmlError::TooManyAttributes { position: before });
            }
            let attr = attr.map_err(|e| XmlError::Malformed {
                position: before,
                message: e.to_string(),
            })?;
            let key = self.borrow(attr.key.as_ref(), before)?;
            let raw = self.borrow(&attr.value, before)?;
            let value = normalize_attribute(raw, before)?;
            if key == "xmlns" {
                ns_decls.push(("", value));
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                if value.is_empty() {
                    return Err(XmlError::Malformed {
                        position: before,
                        message: format!("prefix `{p}` bound to an empty namespace"),
                    });
                }
                ns_decls.push((p, value));
            } else {
                raw_attrs.push((key, value));
            }
        }
        self.marks.push(self.bindings.len());
        self.bindings
            .extend(ns_decls.iter().map(|(p, u)| (*p, Rc::from(u.as_ref()))));
        let (prefix, local) = split_qname(qname);
        let ns = match prefix {
            Some("xml") => Some(self.xml_ns.clone()),
            Some(p) => Some(self.lookup(p).ok_or_else(|| XmlError::UnboundPrefix {
                prefix: p.to_owned(),
                position: before,
            })?),
            None => self.lookup("").filter(|u| !u.is_empty()),
        };
        let mut attrs = Vec::with_capacity(raw_attrs.len());
        for (key, value) in raw_attrs {
            let (aprefix, alocal) = split_qname(key);
            let ans = match aprefix {
                Some("xml") => Some(self.xml_ns.clone()),
                Some(p) => Some(self.lookup(p).ok_or_else(|| XmlError::UnboundPrefix {
                    prefix: p.to_owned(),
                    position: before,
                })?),
                None => None,
            };
            if attrs
                .iter()
                .any(|a: &Attr| a.local == alocal && a.ns == ans)
            {
                return Err(XmlError::Malformed {
                    position: before,
                    message: format!("attribute `{key}` appears twice"),
                });
            }
            attrs.push(Attr {
                prefix: aprefix,
                local: alocal,
                ns: ans,
                value,
            });
        }
        let element = Element {
            prefix,
            local,
            ns,
            ns_decls,
            attrs,
            children: Vec::new(),
            span: Span {
                start: before,
                start_tag_end: after,
                end_tag_start: after,
                end: after,
            },
        };
        let id = self.push_child(NodeKind::Element(element));
        if self.stack.is_empty() {
            self.root = Some(id);
        }
        Ok(id)
    }
}

/// Splits `p:local` into (`Some(p)`, `local`).
fn split_qname(qname: &str) -> (Option<&str>, &str) {
    match qname.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, qname),
    }
}

/// XML 1.0 end-of-line handling: CRLF and lone CR become LF.
fn normalize_eol(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\r') {
        return Cow::Borrowed(raw);
    }
    Cow::Owned(raw.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Resolves a predefined entity or a character reference (`name` is between `&` and `;`).
fn resolve_reference(name: &str, position: usize) -> Result<String, XmlError> {
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let code = if let Some(hex) = name.strip_prefix("#x") {
                u32::from_str_radix(hex, 16).ok()
            } else if let Some(dec) = name.strip_prefix('#') {
                dec.parse::<u32>().ok()
            } else {
                None
            };
            match code.and_then(char::from_u32) {
                Some(c) if is_xml_char(c) => c,
                _ => {
                    return Err(XmlError::UnknownEntity {
                        name: name.to_owned(),
                        position,
                    });
                }
            }
        }
    };
    Ok(c.to_string())
}

/// Whether `c` is allowed in XML 1.0 documents.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Attribute-value normalization (XML 1.0 §3.3.3, CDATA type): literal whitespace becomes a
/// space (CRLF counting as one), references are replaced; `<` is refused.
fn normalize_attribute(raw: &str, position: usize) -> Result<Cow<'_, str>, XmlError> {
    if !raw.contains(['&', '\r', '\n', '\t', '<']) {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '\r', '\n', '\t', '<']) {
        out.push_str(&rest[..i]);
        let c = rest.as_bytes()[i];
        match c {
            b'&' => {
                let end = rest[i..].find(';').ok_or_else(|| XmlError::Malformed {
                    position,
                    message: "unterminated reference in an attribute value".into(),
                })?;
                out.push_str(&resolve_reference(&rest[i + 1..i + end], position)?);
                rest = &rest[i + end + 1..];
            }
            b'\r' => {
                out.push(' ');
                rest = rest[i + 1..].strip_prefix('\n').unwrap_or(&rest[i + 1..]);
            }
            b'<' => {
                return Err(XmlError::Malformed {
                    position,
                    message: "`<` in an attribute value".into(),
                });
            }
            _ => {
                out.push(' ');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_doctype() {
        let err = Document::parse(b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>").unwrap_err();
        assert_eq!(
            err.to_string(),
            "a DOCTYPE declaration at byte 0 is refused"
        );
    }

    #[test]
    fn refuses_unknown_entity() {
        let err = Document::parse(b"<a>&x;</a>").unwrap_err();
        assert_eq!(err.to_string(), "unknown entity reference `&x;` at byte 3");
    }

    #[test]
    fn refuses_unbound_prefix() {
        let err = Document::parse(b"<a><b:c/></a>").unwrap_err();
        assert_eq!(err.to_string(), "unbound namespace prefix `b` at byte 3");
    }

    #[test]
    fn refuses_too_deep() {
        let doc = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        let err = Document::parse(doc.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "elements nested deeper than 256 levels at byte {}",
                3 * MAX_DEPTH
            )
        );
    }

    #[test]
    fn refuses_too_many_nodes_and_attributes() {
        let doc = format!("<a>{}</a>", "<b/>".repeat(MAX_NODES));
        let err = Document::parse(doc.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("more than 500000 nodes at byte {}", 3 + 4 * (MAX_NODES - 1))
        );
        let attrs: String = (0..=MAX_ATTRIBUTES)
            .map(|i| format!(" a{i}=\"1\""))
            .collect();
        let err = Document::parse(format!("<r><a{attrs}/></r>").as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "more than 256 attributes on the element at byte 3"
        );
    }

    #[test]
    fn refuses_other_encodings() {
        let err =
            Document::parse(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the document is not UTF-8 (declared encoding ISO-8859-1)"
        );
    }

    #[test]
    fn normalizes_text_and_attributes() {
        let doc = Document::parse(b"<a x=\"1\r\n2&#10;3\tz\">l1\r\nl2\rl3&amp;&#xD;</a>").unwrap();
        let a = doc.element(doc.root);
        assert_eq!(a.attr("x"), Some("1 2\n3 z"));
        assert_eq!(doc.text(doc.root), "l1\nl2\nl3&\r");
    }

    #[test]
    fn records_spans_and_namespaces() {
        let src = b"<r xmlns=\"urn:a\" xmlns:p=\"urn:p\"><p:e ID=\"x\"/><f>t</f></r>";
        let doc = Document::parse(src).unwrap();
        let e = doc.child(doc.root, "urn:p", "e").unwrap();
        let f = doc.child(doc.root, "urn:a", "f").unwrap();
        let es = doc.element(e).span;
        assert_eq!(&src[es.start..es.end], b"<p:e ID=\"x\"/>");
        assert!(es.is_empty_tag());
        let fs = doc.element(f).span;
        assert_eq!(&src[fs.start_tag_end..fs.end_tag_start], b"t");
        assert_eq!(doc.path(f), "/r/f");
        assert_eq!(doc.element(e).ns.as_deref(), Some("urn:p"));
        assert_eq!(doc.element(e).attr("ID"), Some("x"));
    }
}
