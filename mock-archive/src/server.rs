//! The archive server.

/// The archive.
pub struct MockArchive;
/// Builder.
pub struct MockArchiveBuilder;
/// Handle.
pub struct MockArchiveHandle;
