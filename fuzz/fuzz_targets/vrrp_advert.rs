//! Fuzz target `vrrp_advert`: see `ipvs_fuzz::vrrp_advert`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipvs_fuzz::vrrp_advert(data));
