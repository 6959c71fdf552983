//! The Grafana dashboard in docs/ queries only metrics the exporter serves.

use std::collections::BTreeSet;

fn names_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let rest: String = bytes[i..].iter().collect();
        if (rest.starts_with("ipvs_") || rest.starts_with("node_ipvs_"))
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == '_'))
        {
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            i += name.len();
            out.insert(name);
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn every_metric_the_dashboard_queries_is_served() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{root}/docs/grafana-ipvs.json")).unwrap()).unwrap();
    let mut exprs = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().unwrap() {
            exprs.push(t["expr"].as_str().unwrap().to_owned());
        }
    }
    exprs.push(dashboard["templating"]["list"][1]["query"].as_str().unwrap().to_owned());
    assert!(exprs.len() >= 10, "{exprs:?}");
    let served: BTreeSet<String> =
        std::fs::read_to_string(format!("{}/tests/exposition.txt", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split(['{', ' ']).next().unwrap().to_owned())
            .collect();
    let queried: BTreeSet<String> = exprs.iter().flat_map(|e| names_in(e)).collect();
    assert!(queried.len() >= 10, "{queried:?}");
    let missing: Vec<&String> = queried.difference(&served).collect();
    assert!(missing.is_empty(), "the dashboard queries metrics the exporter does not serve: {missing:?}");
}

#[test]
fn every_metric_the_monitoring_page_names_is_served() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let page = std::fs::read_to_string(format!("{root}/docs/monitoring.md")).unwrap();
    let served = std::fs::read_to_string(format!("{}/tests/exposition.txt", env!("CARGO_MANIFEST_DIR"))).unwrap()
        + &std::fs::read_to_string(format!("{}/tests/exposition-node.txt", env!("CARGO_MANIFEST_DIR"))).unwrap();
    for name in names_in(&page) {
        // Families named with "..." on the page are prefixes of served names.
        let name = name.trim_end_matches('_');
        assert!(served.contains(name), "docs/monitoring.md names {name}, which the exporter does not serve");
    }
}
