//! Fuzz target `keepalived_conf`: see `ipvs_fuzz::keepalived_conf`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipvs_fuzz::keepalived_conf(data));
