//! Fuzz target `rule_parser`: see `ipvs_fuzz::rule_parser`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipvs_fuzz::rule_parser(data));
