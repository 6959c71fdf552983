//! Benchmarks only: see `benches/core.rs` (`cargo bench -p ipvs-benches`).
