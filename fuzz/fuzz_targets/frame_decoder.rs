//! Fuzz target `frame_decoder`: see `ipvs_fuzz::frame_decoder`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipvs_fuzz::frame_decoder(data));
