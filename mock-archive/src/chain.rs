//! An error and its causes as one line for people, each cause once. Many errors already say
//! their cause in their own message (`cannot connect to X (Connection refused)`) and also
//! return it as their `source()`; `{:#}` would print it twice. Both binaries print errors
//! through [`error_chain`].

/// `err` and its causes joined with `": "`, leaving out a cause whose text is already there.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused: nothing is listening on 127.0.0.1:9 ({0})")]
    struct Refused(#[source] std::io::Error);

    #[test]
    fn each_cause_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err = anyhow::Error::new(Refused(io)).context("preflight failed");
        assert_eq!(
            format!("{err:#}"),
            "preflight failed: connection refused: nothing is listening on 127.0.0.1:9 (Connection refused): Connection refused"
        );
        assert_eq!(
            error_chain(err.as_ref()),
            "preflight failed: connection refused: nothing is listening on 127.0.0.1:9 (Connection refused)"
        );
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let err = anyhow::Error::new(io).context("reading x.pem");
        assert_eq!(error_chain(err.as_ref()), "reading x.pem: No such file");
    }
}
