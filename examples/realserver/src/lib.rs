//! Real servers for direct routing, tunnelling and NAT (being written).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
