//! Reports as JSON, in the file schema: a [`Plan`] (`ipvs diff --output json`) and a
//! [`Table`] with what the kernel reports (`ipvs show --json`).

use super::file::FileTable;
use super::plan::Plan;
use super::table::Table;
use crate::model::Stats;

impl Plan {
    /// The plan as JSON: its summary, each step (operation, target, reason, and the ipvsadm
    /// command line), and the destinations left draining.
    ///
    /// ```
    /// use ipvs::state::{Plan, Policy, Scope, Table};
    /// let desired = Table::from_rules("-A -t 192.0.2.1:80 -s rr\n").unwrap();
    /// let plan = Plan::new(&Table::new(), &desired, &Scope::Named, &Policy::default()).unwrap();
    /// let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    /// assert_eq!(json["steps"][0]["command"], "-A -t 192.0.2.1:80 -s rr");
    /// assert_eq!(json["steps"][0]["why"], "new service");
    /// ```
    pub fn to_json(&self) -> String {
        let steps: Vec<serde_json::Value> = self
            .steps()
            .iter()
            .map(|s| {
                serde_json::json!({
                    "operation": s.request.operation().name(),
                    "target": s.request.target(),
                    "why": s.why.to_string(),
                    "command": crate::rules::request_line(&s.request, &crate::rules::Numeric),
                })
            })
            .collect();
        let draining: Vec<serde_json::Value> = self
            .draining()
            .iter()
            .map(|d| {
                serde_json::json!({
                    "service": d.service.to_string(),
                    "destination": d.destination.to_string(),
                    "active_conns": d.active,
                    "inactive_conns": d.inactive,
                    "draining_seconds": d.for_.as_secs(),
                })
            })
            .collect();
        let v = serde_json::json!({ "summary": self.summary(), "steps": steps, "draining": draining });
        serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
    }
}

impl Table {
    /// The table with what the kernel reports: the file schema, with `stats` on each service
    /// and `active_conns`, `inactive_conns`, `persistent_conns` and `stats` on each
    /// destination. For `ipvs show --json`.
    pub fn to_status_json(&self) -> String {
        let stats = |s: &Stats| {
            serde_json::json!({
                "conns": s.conns, "in_packets": s.in_packets, "out_packets": s.out_packets,
                "in_bytes": s.in_bytes, "out_bytes": s.out_bytes, "cps": s.cps, "in_pps": s.in_pps,
                "out_pps": s.out_pps, "in_bps": s.in_bps, "out_bps": s.out_bps,
            })
        };
        let mut v = serde_json::to_value(FileTable::from(self)).unwrap_or_default();
        if let Some(services) = v.get_mut("services").and_then(|s| s.as_array_mut()) {
            for (sv, e) in services.iter_mut().zip(self.entries()) {
                sv["stats"] = stats(e.stats());
                if let Some(dests) = sv.get_mut("destinations").and_then(|d| d.as_array_mut()) {
                    for (dv, d) in dests.iter_mut().zip(e.destinations()) {
                        dv["active_conns"] = d.active_conns.into();
                        dv["inactive_conns"] = d.inactive_conns.into();
                        dv["persistent_conns"] = d.persistent_conns.into();
                        dv["stats"] = stats(&d.stats);
                        // The weight is always shown in a status (0 and 1 matter here).
                        dv["weight"] = d.destination.weight.into();
                    }
                }
            }
        }
        serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
    }
}
