//! What lowers an instance's priority or faults it: its own interface, tracked interfaces
//! (`track_interface`) and tracked scripts (`vrrp_script` / `track_script`), as keepalived
//! does. Scripts run on their own schedule, once each whatever the number of instances that
//! track them; [`assess`] turns what is known into a priority and a list of faults.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::check::{run_script, ScriptOutcome};
use crate::config::{Script, VrrpInstance, VrrpScript};
use crate::host::lock;

/// Each script's state by name: `true` while good.
pub type ScriptStates = Arc<Mutex<HashMap<String, bool>>>;

/// One tracked object's weight and whether it is good now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracked {
    /// Its weight: added while good (while bad with `reverse`); 0: bad faults the instance.
    pub weight: i32,
    /// The weight applies while bad instead.
    pub reverse: bool,
    /// Whether it is good (interface up, script succeeding).
    pub good: bool,
}

/// The effective priority of an instance with priority `base`, and whether a fault is in
/// force, from its tracked objects.
///
/// ```
/// use ipvs_director::failover::track::{assess, Tracked};
/// let up = |weight, good| Tracked { weight, reverse: false, good };
/// assert_eq!(assess(100, &[up(10, true), up(-30, false)]), (80, false));
/// assert_eq!(assess(100, &[up(0, false)]), (100, true));
/// assert_eq!(assess(10, &[up(-50, false)]), (1, false)); // never below 1
/// ```
pub fn assess(base: u8, tracked: &[Tracked]) -> (u8, bool) {
    let mut priority = i32::from(base);
    let mut fault = false;
    for t in tracked {
        let active = t.good != t.reverse;
        if t.weight == 0 {
            fault |= !active;
        } else if (t.weight > 0 && active) || (t.weight < 0 && !active) {
            priority += t.weight;
        }
    }
    (priority.clamp(1, 254) as u8, fault)
}

/// The tracked objects of `inst`, given which interfaces are up (by name) and the scripts'
/// states; a missing interface is down, a script not yet run is as `init_fail` says.
pub fn tracked(
    inst: &VrrpInstance,
    scripts: &[VrrpScript],
    link_up: &dyn Fn(&str) -> bool,
    states: &HashMap<String, bool>,
) -> (Vec<Tracked>, Vec<String>) {
    let mut out = Vec::new();
    let mut names = Vec::new();
    if let Some(i) = &inst.interface {
        out.push(Tracked { weight: 0, reverse: false, good: link_up(i) });
        names.push(format!("interface {i}"));
    }
    for t in &inst.track_interfaces {
        out.push(Tracked { weight: t.weight, reverse: t.reverse, good: link_up(&t.name) });
        names.push(format!("interface {}", t.name));
    }
    for t in &inst.track_scripts {
        let Some(s) = scripts.iter().find(|s| s.name == t.script) else { continue };
        let good = states.get(&s.name).copied().unwrap_or(!s.init_fail);
        let (weight, reverse) = match t.weight {
            Some(w) => (w, t.reverse),
            None => (s.weight, s.reverse),
        };
        out.push(Tracked { weight, reverse, good });
        names.push(format!("script {}", s.name));
    }
    (out, names)
}

/// Runs `command` (the script's, with its user) every interval for as long as the task
/// lives, recording the script's state after `rise` successes or `fall` failures in a row.
pub fn spawn_script(script: VrrpScript, command: Script, states: ScriptStates) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (mut ok_run, mut bad_run) = (0u32, 0u32);
        {
            lock(&states).insert(script.name.clone(), !script.init_fail);
        }
        loop {
            let out = run_script(&command, script.effective_timeout()).await;
            let ok = matches!(out, ScriptOutcome::Exited(0));
            if ok {
                (ok_run, bad_run) = (ok_run.saturating_add(1), 0);
            } else {
                (ok_run, bad_run) = (0, bad_run.saturating_add(1));
            }
            {
                let mut st = lock(&states);
                let was = st.get(&script.name).copied().unwrap_or(true);
                let now = if ok && ok_run >= script.rise.max(1) {
                    true
                } else if !ok && bad_run >= script.fall.max(1) {
                    false
                } else {
                    was
                };
                if now != was {
                    tracing::info!(script = %script.name, outcome = %out, "VRRP_Script({}) {}", script.name, if now { "succeeded" } else { "failed" });
                }
                st.insert(script.name.clone(), now);
            }
            tokio::time::sleep(script.interval.max(Duration::from_millis(100))).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_applies_the_weight_while_bad() {
        let t = |weight, reverse, good| Tracked { weight, reverse, good };
        assert_eq!(assess(100, &[t(20, true, false)]), (120, false));
        assert_eq!(assess(100, &[t(20, true, true)]), (100, false));
        assert_eq!(assess(100, &[t(-20, true, true)]), (80, false));
        assert_eq!(assess(100, &[t(0, true, true)]), (100, true));
        assert_eq!(assess(250, &[t(50, false, true)]), (254, false));
    }

    #[test]
    fn an_instance_tracks_its_interface_its_interfaces_and_its_scripts() {
        let inst: VrrpInstance = toml::from_str(
            "name = \"VI_1\"\ninterface = \"eth0\"\nvirtual_router_id = 51\nvirtual_ipaddress = [{ address = \"192.0.2.100/24\" }]\n\
             track_interface = [{ name = \"eth1\", weight = -20 }]\ntrack_script = [{ script = \"chk\" }, { script = \"gone\" }]\n",
        )
        .unwrap();
        let mut s = VrrpScript::new("chk", Script::new(["/bin/true"]));
        s.weight = 5;
        let states = HashMap::from([("chk".to_string(), true)]);
        let (t, names) = tracked(&inst, &[s], &|n| n == "eth0", &states);
        assert_eq!(names, ["interface eth0", "interface eth1", "script chk"]);
        assert_eq!(assess(100, &t), (85, false));
        let (t, _) = tracked(&inst, &[], &|_| false, &HashMap::new());
        assert_eq!(assess(100, &t), (80, true));
    }
}
