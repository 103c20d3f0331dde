//! The format layer: HL7 V3 messages and CDA R2 documents, read and built, identity codes,
//! organisation ids and the code registry. (Issue 3: filled by the format work.)
