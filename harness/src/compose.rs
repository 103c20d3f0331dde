//! Building complete HL7 V3 messages from a document template plus values.
//! (Issue 3: filled by the format work.)
