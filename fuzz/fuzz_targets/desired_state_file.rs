//! Fuzz target `desired_state_file`: see `ipvs_fuzz::desired_state_file`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipvs_fuzz::desired_state_file(data));
