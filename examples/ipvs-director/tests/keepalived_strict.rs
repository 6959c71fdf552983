//! `ReadOptions::strict` (`--strict`): the reads the daemon makes (`read_file`, at start and
//! on reload) and `import_file` refuse a file with warnings, each warning an error; the
//! default options read it with its warnings.

use ipvs_director::keepalived::{import_file, read_file, read_str, ReadOptions};

const WARNED: &str =
    "virtual_server 192.0.2.10 80 {\n  protocol TCP\n  lvs_sched rr\n  lvs_method NAT\n  nat_mask 255.255.255.0\n  \
     real_server 198.51.100.11 80 {\n  }\n}\n";

#[test]
fn strict_turns_warnings_into_errors() {
    let strict = ReadOptions { strict: true, ..ReadOptions::default() };
    assert!(read_str(WARNED, "k.conf").is_ok());
    let e = strict.read_str(WARNED, "k.conf").unwrap_err();
    assert_eq!(
        e.to_string(),
        "k.conf:5: nat_mask: unknown keyword in virtual_server; ignored, as keepalived ignores it (a warning: refused with --strict)"
    );
    // A file without warnings is read as before.
    assert!(strict.read_str(&WARNED.replace("  nat_mask 255.255.255.0\n", ""), "k.conf").is_ok());
    let f = std::env::temp_dir().join(format!("ipvs-director-strict-{}.conf", std::process::id()));
    std::fs::write(&f, WARNED).unwrap();
    let (read, import) = (strict.read_file(&f), strict.import_file(&f));
    let (lenient, imported) = (read_file(&f), import_file(&f));
    std::fs::remove_file(&f).unwrap();
    assert_eq!(read.unwrap_err().0.len(), 1);
    assert_eq!(import.unwrap_err().0.len(), 1);
    assert!(lenient.is_ok());
    assert!(imported.unwrap().contains("address = \"198.51.100.11\""));
}
