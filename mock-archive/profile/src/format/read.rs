//! Helpers shared by the message and CDA readers: a cursor over the element tree that knows
//! its XPath-like location, and field readers that record problems as they go.

use super::codes;
use super::hetu::{Hetu, HetuError};
use super::model::{CodeValue, InstanceId, Organisation, Person};
use super::oid::check_oid;
use super::problem::{Problem, ProblemCode};
use super::xml::{Element, Ns};

/// An element and where it is.
#[derive(Clone)]
pub(crate) struct Node<'a> {
    pub el: &'a Element,
    pub path: String,
}

impl<'a> Node<'a> {
    /// A node at `path`.
    pub(crate) fn new(el: &'a Element, path: String) -> Self {
        Self { el, path }
    }

    /// The first child with this namespace and name.
    pub(crate) fn child_ns(&self, ns: &Ns, name: &str) -> Option<Node<'a>> {
        self.el
            .child(ns, name)
            .map(|el| Node::new(el, self.path_to(name)))
    }

    /// The first HL7 V3 child with this name.
    pub(crate) fn child(&self, name: &str) -> Option<Node<'a>> {
        self.child_ns(&Ns::Hl7, name)
    }

    /// Follows a `/`-separated chain of HL7 V3 children.
    pub(crate) fn walk(&self, chain: &str) -> Option<Node<'a>> {
        let mut node = self.clone();
        for name in chain.split('/') {
            node = node.child(name)?;
        }
        Some(node)
    }

    /// All HL7 V3 children with this name.
    pub(crate) fn children(&self, name: &'a str) -> impl Iterator<Item = Node<'a>> + 'a {
        let path = self.path_to(name);
        self.el
            .children_named(&Ns::Hl7, name)
            .map(move |el| Node::new(el, path.clone()))
    }

    /// An attribute value.
    pub(crate) fn attr(&self, name: &str) -> Option<&'a str> {
        self.el.attr(name)
    }

    /// The location of a child that is not there.
    pub(crate) fn path_to(&self, chain: &str) -> String {
        let mut path = String::with_capacity(self.path.len() + 1 + chain.len());
        path.push_str(&self.path);
        path.push('/');
        path.push_str(chain);
        path
    }
}

/// Collects problems while reading fields.
#[derive(Default)]
pub(crate) struct Fields {
    pub problems: Vec<Problem>,
}

impl Fields {
    pub(crate) fn push(
        &mut self,
        code: ProblemCode,
        loc: impl Into<String>,
        msg: impl Into<String>,
    ) {
        self.problems.push(Problem::new(code, loc, msg));
    }

    /// Reports a missing required element or attribute.
    pub(crate) fn missing(&mut self, loc: String, what: &str) {
        self.push(ProblemCode::MissingField, loc, format!("{what} is missing"));
    }

    /// Follows `chain` from `from`, reporting it as missing when absent.
    pub(crate) fn require<'a>(
        &mut self,
        from: &Node<'a>,
        chain: &str,
        what: &str,
    ) -> Option<Node<'a>> {
        let found = from.walk(chain);
        if found.is_none() {
            self.missing(from.path_to(chain), what);
        }
        found
    }

    /// Reads an `II` element. `nullFlavor` gives `None` without a problem; a missing `root`
    /// or an invalid OID is a problem.
    pub(crate) fn id(&mut self, node: Option<&Node<'_>>) -> Option<InstanceId> {
        let node = node?;
        if node.attr("nullFlavor").is_some() {
            return None;
        }
        let Some(root) = node.attr("root") else {
            self.missing(format!("{}/@root", node.path), "the id root");
            return None;
        };
        if let Err(err) = check_oid(root) {
            self.push(
                ProblemCode::OidSyntax,
                format!("{}/@root", node.path),
                err.to_string(),
            );
        }
        Some(InstanceId {
            root: root.to_owned(),
            extension: node.attr("extension").map(str::to_owned),
        })
    }

    /// Reads a required `II` child `chain` of `from`.
    pub(crate) fn required_id(
        &mut self,
        from: &Node<'_>,
        chain: &str,
        what: &str,
    ) -> Option<InstanceId> {
        let node = self.require(from, chain, what)?;
        let id = self.id(Some(&node));
        if id.is_none() && node.attr("nullFlavor").is_some() {
            self.missing(node.path.clone(), what);
        }
        id
    }

    /// Reads a coded value; `nullFlavor` or a missing `code` gives `None`.
    pub(crate) fn code(&mut self, node: Option<&Node<'_>>) -> Option<CodeValue> {
        let node = node?;
        let code = node.attr("code")?;
        Some(CodeValue {
            code: code.to_owned(),
            code_system: node.attr("codeSystem").map(str::to_owned),
            display_name: node.attr("displayName").map(str::to_owned),
        })
    }

    /// Reads a required coded value.
    pub(crate) fn required_code(
        &mut self,
        from: &Node<'_>,
        chain: &str,
        what: &str,
    ) -> Option<CodeValue> {
        let node = self.require(from, chain, what)?;
        let code = self.code(Some(&node));
        if code.is_none() {
            self.missing(format!("{}/@code", node.path), what);
        }
        code
    }

    /// Reads a `versionNumber`-like `@value` as a positive integer.
    pub(crate) fn number(&mut self, node: Option<&Node<'_>>, what: &str) -> Option<u32> {
        let node = node?;
        let Some(value) = node.attr("value") else {
            self.missing(format!("{}/@value", node.path), what);
            return None;
        };
        match value.parse::<u32>() {
            Ok(n) if n >= 1 && !value.starts_with('+') => Some(n),
            _ => {
                self.push(
                    ProblemCode::BadValue,
                    format!("{}/@value", node.path),
                    format!("{what} `{value}` is not a positive whole number"),
                );
                None
            }
        }
    }

    /// Reads an HL7 `TS` `@value`, checking its form.
    pub(crate) fn time(&mut self, node: Option<&Node<'_>>, what: &str) -> Option<String> {
        let node = node?;
        if node.attr("nullFlavor").is_some() {
            return None;
        }
        let Some(value) = node.attr("value") else {
            self.missing(format!("{}/@value", node.path), what);
            return None;
        };
        if !is_hl7_timestamp(value) {
            self.push(
                ProblemCode::BadValue,
                format!("{}/@value", node.path),
                format!("{what} `{value}` is not an HL7 timestamp (YYYYMMDDHHMMSS[.fff][+ZZZZ])"),
            );
        }
        Some(value.to_owned())
    }

    /// Reads an organisation (`id`, `name`) element.
    pub(crate) fn organisation(&mut self, node: Option<&Node<'_>>) -> Option<Organisation> {
        let node = node?;
        Some(Organisation {
            id: self.id(node.child("id").as_ref()),
            name: node.child("name").map(|n| n.el.text.trim().to_owned()),
        })
    }

    /// Reads a person: `id` from `id_node`, name from `name_node`'s `name`; checks the identity
    /// code when the id is under the identity-code root and `check_hetu` is set.
    pub(crate) fn person(
        &mut self,
        id_node: Option<&Node<'_>>,
        name_node: Option<&Node<'_>>,
        check_hetu: bool,
    ) -> Person {
        let id = self.id(id_node);
        if let (true, Some(id), Some(node)) = (check_hetu, &id, id_node) {
            self.hetu(id, node);
        }
        Person {
            id,
            name: name_node
                .and_then(|n| n.child("name"))
                .and_then(|n| person_name(n.el)),
        }
    }

    /// Checks an identity code under root 1.2.246.21.
    pub(crate) fn hetu(&mut self, id: &InstanceId, node: &Node<'_>) {
        if id.root != codes::IDENTITY_CODE_ROOT.value {
            return;
        }
        let loc = format!("{}/@extension", node.path);
        match &id.extension {
            None => self.missing(loc, "the identity code"),
            Some(code) => {
                if let Err(err) = Hetu::parse(code) {
                    self.push(hetu_problem(&err), loc, err.to_string());
                }
            }
        }
    }
}

/// The problem code for an identity-code error.
pub(crate) fn hetu_problem(err: &HetuError) -> ProblemCode {
    match err {
        HetuError::Format(_) => ProblemCode::HetuFormat,
        HetuError::CenturySign { .. } => ProblemCode::HetuCenturySign,
        HetuError::Date { .. } => ProblemCode::HetuDate,
        HetuError::IndividualNumber { .. } => ProblemCode::HetuIndividualNumber,
        HetuError::CheckCharacter { .. } => ProblemCode::HetuCheckCharacter,
    }
}

/// "Given Family" from an HL7 `PN`: the first `given` without a qualifier (else the first),
/// and the `family`.
pub(crate) fn person_name(name: &Element) -> Option<String> {
    let given = name
        .children_named(&Ns::Hl7, "given")
        .find(|g| g.attr("qualifier").is_none())
        .or_else(|| name.child(&Ns::Hl7, "given"))
        .map(|g| g.text.trim());
    let family = name.child(&Ns::Hl7, "family").map(|f| f.text.trim());
    let joined = [given, family]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if joined.is_empty() {
        let text = name.text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    } else {
        Some(joined)
    }
}

/// Whether `value` has the form of an HL7 `TS`: 4 to 14 digits in pairs after the year, an
/// optional fraction after full seconds, an optional `+ZZZZ`/`-ZZZZ` zone.
pub(crate) fn is_hl7_timestamp(value: &str) -> bool {
    let (main, zone) = match value.find(['+', '-']) {
        Some(i) => (&value[..i], Some(&value[i + 1..])),
        None => (value, None),
    };
    if let Some(zone) = zone
        && (zone.len() != 4 || !zone.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let (digits, fraction) = match main.split_once('.') {
        Some((d, f)) => (d, Some(f)),
        None => (main, None),
    };
    let digits_ok = matches!(digits.len(), 4 | 6 | 8 | 10 | 12 | 14)
        && digits.bytes().all(|b| b.is_ascii_digit());
    let fraction_ok = match fraction {
        None => true,
        Some(f) => {
            digits.len() == 14
                && (1..=9).contains(&f.len())
                && f.bytes().all(|b| b.is_ascii_digit())
        }
    };
    digits_ok && fraction_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        for ok in [
            "2026",
            "20260717130652+0300",
            "20170922151558.936",
            "20170922151552",
            "20260717",
        ] {
            assert!(is_hl7_timestamp(ok), "{ok}");
        }
        for bad in [
            "",
            "202",
            "20260717T1306",
            "2026071713065",
            "20260717+03",
            "2026.5",
            "20260717130652.x",
        ] {
            assert!(!is_hl7_timestamp(bad), "{bad}");
        }
    }
}
