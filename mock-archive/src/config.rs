//! Archive configuration.

/// Archive configuration (placeholder).
#[derive(Debug, Clone, Default)]
pub struct ArchiveConfig {}

/// TLS files.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {}
