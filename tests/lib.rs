//! Shared test support lives in the integration binary's `support` module.
