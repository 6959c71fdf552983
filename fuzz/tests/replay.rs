//! Every checked-in corpus and regression input of every fuzz target, run through the
//! target's body on the stable toolchain. A crash that fuzzing found is kept as a file under
//! `regressions/<target>/` and replayed here for ever.

use std::path::Path;

#[test]
fn every_corpus_and_regression_input_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut total = 0;
    for (name, target) in ipvs_fuzz::TARGETS {
        let mut inputs = 0;
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else { continue };
            for e in entries {
                let path = e.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| target(&data));
                assert!(outcome.is_ok(), "{name}: {} panics", path.display());
                inputs += 1;
            }
        }
        assert!(inputs > 0, "{name} has no corpus");
        eprintln!("{name}: {inputs} inputs");
        total += inputs;
    }
    assert!(total > 0);
}
