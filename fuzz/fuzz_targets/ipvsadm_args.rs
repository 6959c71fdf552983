//! Fuzz target `ipvsadm_args`: see `ipvs_fuzz::ipvsadm_args`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipvs_fuzz::ipvsadm_args(data));
