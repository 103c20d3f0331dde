//! Secure XML reading on quick-xml's namespace-aware `NsReader`: a small element tree built
//! in one streaming pass under [`Limits`].
//!
//! Refused, each with a [`Problem`]: any `<!DOCTYPE` (so entity declarations, billion laughs
//! and external entities never expand), references to undefined entities, invalid UTF-8, an
//! encoding other than UTF-8, input beyond `max_bytes`, nesting beyond `max_depth`, more than
//! `max_attributes` on one element or `max_elements` in all, truncated and malformed XML.
//! Duplicate `ID` attributes are reported but do not stop reading. The pass is linear in the
//! input and never recurses, so hostile input cannot make it panic or hang.

use std::borrow::Cow;
use std::collections::HashMap;

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::problem::{Problem, ProblemCode};

/// Limits applied to every XML document read (a message, and again to the CDA inside it).
/// Deserializes with every field optional (a missing field keeps its default).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting accepted (the root is depth 1).
    pub max_depth: usize,
    /// Most attributes (namespace declarations included) on one element.
    pub max_attributes: usize,
    /// Most elements in one document.
    pub max_elements: usize,
}

impl Default for Limits {
    /// 8 MiB, depth 256, 64 attributes per element, 200,000 elements.
    fn default() -> Self {
        Self {
            max_bytes: 8 * 1024 * 1024,
            max_depth: 256,
            max_attributes: 64,
            max_elements: 200_000,
        }
    }
}

/// The namespaces the format layer tells apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ns {
    /// No namespace.
    None,
    /// `urn:hl7-org:v3`.
    Hl7,
    /// `urn:hl7finland`.
    Hl7Fi,
    /// SOAP 1.1 envelope.
    Soap11,
    /// SOAP 1.2 envelope.
    Soap12,
    /// XML-DSig.
    Dsig,
    /// Any other namespace URI.
    Other(String),
}

impl Ns {
    fn from_uri(uri: &[u8]) -> Self {
        match uri {
            b"urn:hl7-org:v3" => Ns::Hl7,
            b"urn:hl7finland" => Ns::Hl7Fi,
            b"http://schemas.xmlsoap.org/soap/envelope/" => Ns::Soap11,
            b"http://www.w3.org/2003/05/soap-envelope" => Ns::Soap12,
            b"http://www.w3.org/2000/09/xmldsig#" => Ns::Dsig,
            other => Ns::Other(String::from_utf8_lossy(other).into_owned()),
        }
    }

    /// "namespace `URI`", or "no namespace".
    pub(crate) fn describe(&self) -> String {
        match self {
            Ns::None => "no namespace".to_owned(),
            other => format!("namespace `{}`", other.uri()),
        }
    }

    /// The namespace URI, `""` for none.
    pub(crate) fn uri(&self) -> &str {
        match self {
            Ns::None => "",
            Ns::Hl7 => "urn:hl7-org:v3",
            Ns::Hl7Fi => "urn:hl7finland",
            Ns::Soap11 => "http://schemas.xmlsoap.org/soap/envelope/",
            Ns::Soap12 => "http://www.w3.org/2003/05/soap-envelope",
            Ns::Dsig => "http://www.w3.org/2000/09/xmldsig#",
            Ns::Other(uri) => uri,
        }
    }
}

/// An element or attribute name: borrowed from a static table for the names HL7 V3 / CDA
/// messages use all the time (no allocation), owned otherwise.
pub(crate) type Name = Cow<'static, str>;

/// Names common enough to be worth not allocating.
const COMMON_NAMES: &[&str] = &[
    "id",
    "root",
    "extension",
    "code",
    "codeSystem",
    "codeSystemName",
    "displayName",
    "value",
    "typeCode",
    "classCode",
    "moodCode",
    "determinerCode",
    "nullFlavor",
    "name",
    "given",
    "family",
    "time",
    "text",
    "ID",
    "mediaType",
    "representation",
    "qualifier",
    "device",
    "representedOrganization",
    "assignedPerson",
    "assignedAuthor",
    "assignedEntity",
    "effectiveTime",
    "setId",
    "versionNumber",
    "reasonCode",
    "recordTarget",
    "patient",
    "patientRole",
    "patientPerson",
    "custodian",
    "assignedCustodian",
    "author",
    "component",
    "realmCode",
    "typeId",
    "templateId",
    "title",
    "confidentialityCode",
    "languageCode",
    "statusCode",
    "birthTime",
    "administrativeGenderCode",
    "Reference",
    "Transform",
    "Transforms",
    "DigestMethod",
    "DigestValue",
    "URI",
    "Algorithm",
    "section",
    "entry",
    "paragraph",
    "content",
    "low",
    "high",
    "moderator",
    "product",
    "version",
];

fn intern(s: &str) -> Name {
    match COMMON_NAMES.iter().find(|n| **n == s) {
        Some(n) => Cow::Borrowed(n),
        None => Cow::Owned(s.to_owned()),
    }
}

/// One element of the tree: namespace, local name, attributes (local names, namespace
/// declarations left out), element children and the concatenated direct text.
#[derive(Debug, Clone)]
pub(crate) struct Element {
    pub ns: Ns,
    pub name: Name,
    pub attrs: Vec<(Name, String)>,
    pub children: Vec<Element>,
    pub text: String,
    /// Byte range of the element in the input, from `<` of its start tag to `>` of its end tag.
    pub span: std::ops::Range<usize>,
}

impl Element {
    /// The value of the attribute with this local name.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child element with this namespace and local name.
    pub(crate) fn child(&self, ns: &Ns, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name && &c.ns == ns)
    }

    /// All child elements with this namespace and local name.
    pub(crate) fn children_named<'a>(
        &'a self,
        ns: &'a Ns,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children
            .iter()
            .filter(move |c| c.name == name && &c.ns == ns)
    }

    /// Drops the children iteratively, so that a deep tree cannot overflow the stack.
    fn take_all(&mut self) -> Vec<Element> {
        std::mem::take(&mut self.children)
    }
}

impl Drop for Element {
    fn drop(&mut self) {
        let mut stack = self.take_all();
        while let Some(mut el) = stack.pop() {
            stack.extend(el.take_all());
        }
    }
}

/// Where an open element sits, for locations in problems.
fn path_of(stack: &[Element]) -> String {
    if stack.is_empty() {
        return "/".to_owned();
    }
    let mut path = String::new();
    for el in stack {
        path.push('/');
        path.push_str(&el.name);
    }
    path
}

/// The outcome of reading one XML document: the root element if reading got to the end,
/// plus every problem found (a fatal one ends reading and leaves no root).
pub(crate) struct Parsed {
    pub root: Option<Element>,
    pub problems: Vec<Problem>,
}

/// Reads `input` into an element tree under `limits`. `base` is prefixed to every location
/// (empty for a top-level document).
pub(crate) fn parse(input: &[u8], limits: &Limits, base: &str) -> Parsed {
    let mut problems = Vec::new();
    let fatal = |problems: &mut Vec<Problem>, code, loc: String, msg: String| {
        let location = if loc == "/" && !base.is_empty() {
            base.to_owned()
        } else {
            format!("{base}{loc}")
        };
        problems.push(Problem::new(code, location, msg));
    };
    if input.len() > limits.max_bytes {
        fatal(
            &mut problems,
            ProblemCode::XmlTooLarge,
            "/".into(),
            format!(
                "the document is {} bytes, more than the limit of {} bytes",
                input.len(),
                limits.max_bytes
            ),
        );
        return Parsed {
            root: None,
            problems,
        };
    }
    let bom = if input.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let input = &input[bom..];
    let text = match std::str::from_utf8(input) {
        Ok(t) => t,
        Err(e) => {
            fatal(
                &mut problems,
                ProblemCode::XmlInvalidUtf8,
                "/".into(),
                format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            );
            return Parsed {
                root: None,
                problems,
            };
        }
    };
    let mut reader = NsReader::from_str(text);
    {
        let config = reader.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = false;
        config.check_end_names = true;
        config.check_comments = true;
    }
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    let mut ids: HashMap<String, String> = HashMap::new();

    macro_rules! stop {
        ($code:expr, $msg:expr) => {{
            let loc = path_of(&stack);
            fatal(&mut problems, $code, loc, $msg);
            return Parsed {
                root: None,
                problems,
            };
        }};
    }

    loop {
        let pos = reader.buffer_position();
        let (resolved, event) = match reader.read_resolved_event() {
            Ok(pair) => pair,
            Err(err) => {
                let (code, what) = classify_error(&err);
                stop!(
                    code,
                    format!("{what} at byte {}: {err}", reader.error_position())
                );
            }
        };
        let ns = match resolved {
            ResolveResult::Bound(ns) => Some(Ns::from_uri(ns.as_ref())),
            ResolveResult::Unbound => Some(Ns::None),
            ResolveResult::Unknown(prefix) => {
                if matches!(event, Event::Start(_) | Event::Empty(_)) {
                    stop!(
                        ProblemCode::XmlUnknownPrefix,
                        format!(
                            "undeclared namespace prefix `{}` at byte {pos}",
                            String::from_utf8_lossy(&prefix)
                        )
                    );
                }
                None
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if root.is_some() {
                    stop!(
                        ProblemCode::XmlMalformed,
                        format!("a second root element at byte {pos}")
                    );
                }
                if stack.len() + 1 > limits.max_depth {
                    stop!(
                        ProblemCode::XmlTooDeep,
                        format!(
                            "elements nest deeper than the limit of {} at byte {pos}",
                            limits.max_depth
                        )
                    );
                }
                elements += 1;
                if elements > limits.max_elements {
                    stop!(
                        ProblemCode::XmlTooManyElements,
                        format!(
                            "more than the limit of {} elements at byte {pos}",
                            limits.max_elements
                        )
                    );
                }
                let name = intern(std::str::from_utf8(e.local_name().as_ref()).unwrap_or_default());
                let mut attrs = Vec::new();
                let mut count = 0usize;
                for attr in e.attributes() {
                    count += 1;
                    if count > limits.max_attributes {
                        stop!(
                            ProblemCode::XmlTooManyAttributes,
                            format!(
                                "element `{name}` has more than the limit of {} attributes",
                                limits.max_attributes
                            )
                        );
                    }
                    let attr = match attr {
                        Ok(a) => a,
                        Err(err) => stop!(
                            ProblemCode::XmlMalformed,
                            format!("bad attribute on element `{name}` at byte {pos}: {err}")
                        ),
                    };
                    if attr.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (attr_ns, local) = reader.resolve_attribute(attr.key);
                    if let ResolveResult::Unknown(prefix) = attr_ns {
                        stop!(
                            ProblemCode::XmlUnknownPrefix,
                            format!(
                                "undeclared namespace prefix `{}` on an attribute of `{name}`",
                                String::from_utf8_lossy(&prefix)
                            )
                        );
                    }
                    let key = intern(std::str::from_utf8(local.as_ref()).unwrap_or_default());
                    let value = match attr.unescape_value() {
                        Ok(v) => v.into_owned(),
                        Err(err) => stop!(
                            ProblemCode::XmlUndefinedEntity,
                            format!("attribute `{key}` of `{name}`: {err}")
                        ),
                    };
                    attrs.push((key, value));
                }
                let element = Element {
                    ns: ns.unwrap_or(Ns::None),
                    name,
                    attrs,
                    children: Vec::new(),
                    text: String::new(),
                    span: bom + pos as usize..bom + reader.buffer_position() as usize,
                };
                if let Some(id) = element.attr("ID") {
                    let here = format!("{}/{}", path_of(&stack), element.name);
                    let here = here.replacen("//", "/", 1);
                    if let Some(first) = ids.get(id) {
                        problems.push(Problem::new(
                            ProblemCode::XmlDuplicateId,
                            format!("{base}{here}/@ID"),
                            format!("ID `{id}` is used again (first at {base}{first})"),
                        ));
                    } else {
                        ids.insert(id.to_owned(), here);
                    }
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(element);
                } else {
                    attach(&mut stack, &mut root, element);
                }
            }
            Event::End(_) => match stack.pop() {
                Some(mut element) => {
                    element.span.end = bom + reader.buffer_position() as usize;
                    attach(&mut stack, &mut root, element)
                }
                None => stop!(
                    ProblemCode::XmlMalformed,
                    format!("an end tag without a start tag at byte {pos}")
                ),
            },
            Event::Text(t) => {
                let content = match t.xml10_content() {
                    Ok(c) => c,
                    Err(err) => stop!(
                        ProblemCode::XmlMalformed,
                        format!("text at byte {pos}: {err}")
                    ),
                };
                match stack.last_mut() {
                    // Whitespace before the first non-blank text (indentation between
                    // children) carries nothing; everything after it is kept.
                    Some(el) => {
                        if !el.text.is_empty() || !content.trim_ascii().is_empty() {
                            el.text.push_str(&content);
                        }
                    }
                    None => {
                        if !content.trim().is_empty() {
                            stop!(
                                ProblemCode::XmlMalformed,
                                format!("text outside the root element at byte {pos}")
                            );
                        }
                    }
                }
            }
            Event::CData(t) => {
                let content = String::from_utf8_lossy(&t.into_inner()).into_owned();
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&content),
                    None => stop!(
                        ProblemCode::XmlMalformed,
                        format!("CDATA outside the root element at byte {pos}")
                    ),
                }
            }
            Event::GeneralRef(r) => {
                let resolved: Option<char> = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        Ok(None) | Err(_) => stop!(
                            ProblemCode::XmlMalformed,
                            format!(
                                "bad character reference `&{};` at byte {pos}",
                                String::from_utf8_lossy(&r)
                            )
                        ),
                    }
                } else {
                    match &*r.into_inner() {
                        b"lt" => Some('<'),
                        b"gt" => Some('>'),
                        b"amp" => Some('&'),
                        b"apos" => Some('\''),
                        b"quot" => Some('"'),
                        other => stop!(
                            ProblemCode::XmlUndefinedEntity,
                            format!(
                                "reference to the undefined entity `&{};` at byte {pos}",
                                String::from_utf8_lossy(other)
                            )
                        ),
                    }
                };
                match (stack.last_mut(), resolved) {
                    (Some(el), Some(c)) => el.text.push(c),
                    _ => stop!(
                        ProblemCode::XmlMalformed,
                        format!("a reference outside the root element at byte {pos}")
                    ),
                }
            }
            Event::DocType(t) => {
                let body = String::from_utf8_lossy(&t);
                if body.contains("<!ENTITY") {
                    stop!(
                        ProblemCode::XmlEntityDeclaration,
                        format!(
                            "an entity declaration inside <!DOCTYPE> at byte {pos}; entities are never expanded"
                        )
                    );
                }
                stop!(
                    ProblemCode::XmlDoctype,
                    format!(
                        "a document type declaration (<!DOCTYPE>) at byte {pos}; none is allowed"
                    )
                );
            }
            Event::Decl(d) => {
                if let Some(Ok(enc)) = d.encoding() {
                    let enc = String::from_utf8_lossy(&enc).to_ascii_lowercase();
                    if enc != "utf-8" && enc != "utf8" {
                        stop!(
                            ProblemCode::XmlEncoding,
                            format!("the declared encoding `{enc}` is not UTF-8")
                        );
                    }
                }
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => {
                if !stack.is_empty() {
                    stop!(
                        ProblemCode::XmlTruncated,
                        format!(
                            "the document ends at byte {} with {} element(s) still open",
                            text.len(),
                            stack.len()
                        )
                    );
                }
                break;
            }
        }
    }
    if root.is_none() {
        fatal(
            &mut problems,
            ProblemCode::XmlNoRoot,
            "/".into(),
            "the input holds no root element".into(),
        );
    }
    Parsed { root, problems }
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

fn classify_error(err: &quick_xml::Error) -> (ProblemCode, &'static str) {
    use quick_xml::errors::{Error, IllFormedError, SyntaxError};
    match err {
        Error::Syntax(
            SyntaxError::UnclosedComment
            | SyntaxError::UnclosedCData
            | SyntaxError::UnclosedDoctype
            | SyntaxError::UnclosedPIOrXmlDecl
            | SyntaxError::UnclosedTag,
        ) => (ProblemCode::XmlTruncated, "the document ends inside markup"),
        Error::IllFormed(IllFormedError::MissingEndTag(_)) => {
            (ProblemCode::XmlTruncated, "the document ends early")
        }
        Error::Escape(_) => (ProblemCode::XmlUndefinedEntity, "a bad reference"),
        _ => (ProblemCode::XmlMalformed, "malformed XML"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(input: &[u8]) -> Vec<&'static str> {
        parse(input, &Limits::default(), "")
            .problems
            .iter()
            .map(|p| p.code.as_str())
            .collect()
    }

    #[test]
    fn reads_namespaces_attributes_and_text() {
        let p = parse(
            br#"<?xml version="1.0" encoding="UTF-8"?><a xmlns="urn:hl7-org:v3" xmlns:f="urn:hl7finland"><b x="1&amp;2">t&lt;&#65;<![CDATA[<c>]]></b><f:c/></a>"#,
            &Limits::default(),
            "",
        );
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let root = p.root.unwrap();
        assert_eq!(root.ns, Ns::Hl7);
        let b = root.child(&Ns::Hl7, "b").unwrap();
        assert_eq!(b.attr("x"), Some("1&2"));
        assert_eq!(b.text, "t<A<c>");
        assert!(root.child(&Ns::Hl7Fi, "c").is_some());
        assert!(root.child(&Ns::Hl7, "c").is_none());
    }

    #[test]
    fn refuses_doctype_and_entities() {
        assert_eq!(codes(b"<!DOCTYPE a><a/>"), ["XML_DOCTYPE"]);
        assert_eq!(
            codes(b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>"),
            ["XML_ENTITY_DECLARATION"]
        );
        assert_eq!(codes(b"<a>&x;</a>"), ["XML_UNDEFINED_ENTITY"]);
        assert_eq!(codes(b"<a b=\"&x;\"/>"), ["XML_UNDEFINED_ENTITY"]);
    }

    #[test]
    fn enforces_limits() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        let p = parse(b"<a>0123456789</a>", &limits, "");
        assert_eq!(p.problems[0].code, ProblemCode::XmlTooLarge);
        assert_eq!(
            p.problems[0].message,
            "the document is 17 bytes, more than the limit of 10 bytes"
        );
        let deep = format!("{}{}", "<a>".repeat(300), "</a>".repeat(300));
        let p = parse(deep.as_bytes(), &Limits::default(), "");
        assert_eq!(p.problems[0].code, ProblemCode::XmlTooDeep);
        assert_eq!(p.problems[0].location.matches("/a").count(), 256);
        let limits = Limits {
            max_attributes: 2,
            ..Limits::default()
        };
        let p = parse(b"<a x='1' y='2' z='3'/>", &limits, "");
        assert_eq!(p.problems[0].code, ProblemCode::XmlTooManyAttributes);
        let limits = Limits {
            max_elements: 2,
            ..Limits::default()
        };
        let p = parse(b"<a><b/><c/></a>", &limits, "");
        assert_eq!(p.problems[0].code, ProblemCode::XmlTooManyElements);
    }

    #[test]
    fn limits_deserialize_with_defaults() {
        let l: Limits = toml::from_str("max_depth = 64").unwrap();
        assert_eq!(l.max_depth, 64);
        assert_eq!(l.max_bytes, Limits::default().max_bytes);
    }

    #[test]
    fn reports_truncation_utf8_and_malformed() {
        assert_eq!(codes(b"<a><b>"), ["XML_TRUNCATED"]);
        assert_eq!(codes(b"<a><b"), ["XML_TRUNCATED"]);
        assert_eq!(codes(b"<a>\xff</a>"), ["XML_INVALID_UTF8"]);
        assert_eq!(codes(b"<a></b>"), ["XML_MALFORMED"]);
        assert_eq!(codes(b"<a/><b/>"), ["XML_MALFORMED"]);
        assert_eq!(codes(b""), ["XML_NO_ROOT"]);
        assert_eq!(codes(b"<x:a/>"), ["XML_UNKNOWN_PREFIX"]);
        assert_eq!(
            codes(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>"),
            ["XML_ENCODING"]
        );
    }

    #[test]
    fn reports_duplicate_ids_and_keeps_reading() {
        let p = parse(b"<a><b ID=\"x\"/><c ID=\"x\"/></a>", &Limits::default(), "");
        assert!(p.root.is_some());
        assert_eq!(p.problems.len(), 1);
        assert_eq!(p.problems[0].location, "/a/c/@ID");
        assert_eq!(
            p.problems[0].message,
            "ID `x` is used again (first at /a/b)"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse(&bytes, &Limits::default(), "");
        }

        #[test]
        fn arbitrary_markup_never_panics(s in "[<>/a-c&;#x0-9 =\"'!\\[\\]?-]{0,200}") {
            let _ = parse(s.as_bytes(), &Limits::default(), "");
        }
    }
}
