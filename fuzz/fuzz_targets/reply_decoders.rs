//! Fuzz target `reply_decoders`: see `ipvs_fuzz::reply_decoders`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipvs_fuzz::reply_decoders(data));
