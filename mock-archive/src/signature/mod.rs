//! The Kanta system signature: XML-DSig in the Kanta profile, signing and verification.
//! (Issue 4: filled by the signature work.)
