#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: The ipvs developers
# SPDX-License-Identifier: MIT OR Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ipvs_realserver
short_description: Make a host a ready IPVS real server (direct routing, tunnelling, NAT)
description:
  - Runs C(ipvs realserver prepare), C(check) or C(undo) (the project's C(ipvs) command) on the
    managed host.
  - V(prepared) changes only what is not right yet (the VIPs on C(lo) or the tunnel device, the
    ARP settings or rules, the tunnel device, the route back through the director for NAT) and
    records each change with its previous value in a state file.
  - V(absent) puts back exactly what the record says prepare changed, and removes the record.
  - V(checked) only reads, and fails listing the problems when the host is not ready.
version_added: 0.1.0
author: The ipvs developers (!UNKNOWN)
requirements:
  - The C(ipvs) command on the managed host.
  - Root (or CAP_NET_ADMIN) for V(prepared) and V(absent); V(checked) and check mode only read.
options:
  state:
    description:
      - V(prepared) runs C(prepare); changed when it changed something.
      - V(checked) runs C(check --json); never changed. When the host is not ready the module
        fails with the problems in RV(problems) (and RV(ready=false)); use C(failed_when) to read
        them without failing.
      - V(absent) runs C(undo) on the record; changed when something was put back. The record
        says what to put back, so the options that describe the host are ignored.
    type: str
    choices: [prepared, checked, absent]
    default: prepared
  method:
    description:
      - How the director forwards to this host. Required with V(prepared) and V(checked).
    type: str
    choices: [dr, tun, nat]
  vips:
    description:
      - The virtual IP addresses this host serves. Required with V(prepared) and V(checked).
    type: list
    elements: str
    aliases: [vip]
  tunnel:
    description:
      - The encapsulation, for O(method=tun). The command's default is V(ipip).
    type: str
    choices: [ipip, gue, gre]
  tun_port:
    description:
      - The UDP port of GUE encapsulation (O(tunnel=gue) only, and required with it).
    type: int
  dev:
    description:
      - The interface facing the clients; the ARP settings go there (default C(all), every
        interface), and V(checked) looks at it only.
    type: str
  director:
    description:
      - The director's address (O(method=nat), replies must go back through it).
    type: str
  clients:
    description:
      - Client networks whose route must go through the director (O(method=nat); default the
        default route).
    type: list
    elements: str
  arp:
    description:
      - How a DR or TUN real server keeps from answering ARP for its VIPs. The command's default
        is V(sysctl) (C(arp_ignore=1), C(arp_announce=2)); V(arptables) and V(redirect) are
        nftables rules and need C(nft).
    type: str
    choices: [sysctl, arptables, redirect]
  ports:
    description:
      - The service ports the director forwards (O(arp=redirect) needs them).
    type: list
    elements: int
  protocol:
    description:
      - The protocol of O(ports). The command's default is V(tcp).
    type: str
    choices: [tcp, udp, sctp]
  state_file:
    description:
      - The record of what prepare changed, which undo reads (the command's C(--state)).
      - Default C(/run/ipvs-realserver/default.json), or C(netns-NAME.json) there for
        O(netns=/run/netns/NAME).
    type: path
  netns:
    description:
      - Work in the network namespace at this path (C(/run/netns/NAME), C(/proc/PID/ns/net)).
    type: path
  executable:
    description:
      - The C(ipvs) command, a path or a name looked up in E(PATH).
    type: str
    default: ipvs
attributes:
  check_mode:
    support: full
    description:
      - V(prepared) runs C(prepare --dry-run) (reads only) and reports in RV(changes) what it
        would change; changed when that is not empty.
      - V(absent) reports changed when the record holds changes to put back; nothing is run.
  diff_mode:
    support: none
    description: No diff; the result lists the changes.
notes:
  - What each method needs, the three ARP cures and every problem kind are described in
    C(docs/real-servers.md) of the project's source.
"""

EXAMPLES = r"""
- name: A direct-routing real server for two VIPs
  ipvs.ipvs.ipvs_realserver:
    method: dr
    vips: [192.0.2.100, 2001:db8::100]
    dev: eth0

- name: Tunnelled with GUE on port 5555
  ipvs.ipvs.ipvs_realserver:
    method: tun
    tunnel: gue
    tun_port: 5555
    vips: [192.0.2.100]

- name: Fail unless ready
  ipvs.ipvs.ipvs_realserver:
    state: checked
    method: dr
    vips: [192.0.2.100]

- name: Read the problems without failing
  ipvs.ipvs.ipvs_realserver:
    state: checked
    method: nat
    vips: [192.0.2.100]
    director: 192.0.2.1
  register: rs
  failed_when: false

- name: Put everything back
  ipvs.ipvs.ipvs_realserver:
    state: absent
"""

RETURN = r"""
changes:
  description:
    - V(prepared) the changes made, each with the value before; V(absent) what putting them
      back did; in check mode what V(prepared) would change.
  returned: state is prepared or absent
  type: list
  elements: str
  sample: ["added 192.0.2.100/32 to lo", "net.ipv4.conf.all.arp_ignore: 0 -> 1"]
notes:
  description: Remarks of the command (a module left loaded, nothing recorded, ...).
  returned: state is prepared or absent
  type: list
  elements: str
  sample: ["nothing recorded in /run/ipvs-realserver/default.json"]
ready:
  description: Whether the host is a ready real server (no problem found).
  returned: state is checked
  type: bool
problems:
  description: What keeps the host from being ready, as C(check --json) reports it.
  returned: state is checked
  type: list
  elements: dict
  contains:
    kind:
      description: The kind of problem, for machines (C(vip_missing), C(arp_ignore), ...).
      type: str
    what:
      description: What is wrong, in words.
      type: str
    where:
      description: An interface, an address, a setting or a route.
      type: str
    fix:
      description: How to fix it by hand.
      type: str
cmd:
  description: The command run.
  returned: when a command was run
  type: list
  elements: str
"""

import json
import os
import re

from ansible.module_utils.basic import AnsibleModule

STATE_DIR = "/run/ipvs-realserver"


def record_path(state_file, netns):
    """Where the command keeps its record by default (its state_path)."""
    if state_file:
        return state_file
    if netns is None:
        name = "default"
    else:
        rest = netns[len("/run/netns/"):] if netns.startswith("/run/netns/") else ""
        if rest and "/" not in rest and rest != "..":
            name = "netns-" + rest
        else:
            name = re.sub(r"[^A-Za-z0-9.-]", "_", netns)
    return os.path.join(STATE_DIR, name + ".json")


def host_args(p):
    args = []
    for vip in p["vips"]:
        args += ["--vip", vip]
    args += ["--method", p["method"]]
    for opt, flag in (("tunnel", "--tunnel"), ("tun_port", "--tun-port"), ("dev", "--dev"),
                      ("director", "--director"), ("arp", "--arp"), ("protocol", "--protocol"),
                      ("state_file", "--state")):
        if p[opt] is not None:
            args += [flag, str(p[opt])]
    for net in p["clients"] or []:
        args += ["--client", net]
    for port in p["ports"] or []:
        args += ["--port", str(port)]
    return args


def split_output(text):
    """Lines of a report: (changes, notes)."""
    lines = [line for line in text.splitlines() if line.strip()]
    notes = [line[len("note: "):] for line in lines if line.startswith("note: ")]
    return [line for line in lines if not line.startswith("note: ")], notes


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="prepared", choices=["prepared", "checked", "absent"]),
            method=dict(type="str", choices=["dr", "tun", "nat"]),
            vips=dict(type="list", elements="str", aliases=["vip"]),
            tunnel=dict(type="str", choices=["ipip", "gue", "gre"]),
            tun_port=dict(type="int"),
            dev=dict(type="str"),
            director=dict(type="str"),
            clients=dict(type="list", elements="str"),
            arp=dict(type="str", choices=["sysctl", "arptables", "redirect"]),
            ports=dict(type="list", elements="int"),
            protocol=dict(type="str", choices=["tcp", "udp", "sctp"]),
            state_file=dict(type="path"),
            netns=dict(type="path"),
            executable=dict(type="str", default="ipvs"),
        ),
        required_if=[("state", "prepared", ("method", "vips")), ("state", "checked", ("method", "vips"))],
        supports_check_mode=True,
    )
    p = module.params
    if p["state"] != "absent" and not p["vips"]:
        module.fail_json(msg="vips: at least one VIP is needed")

    exe = p["executable"]
    if os.sep not in exe:
        exe = module.get_bin_path(exe, required=True)
    base = [exe] + (["--netns", p["netns"]] if p["netns"] else []) + ["realserver"]

    if p["state"] == "absent" and module.check_mode:
        path = record_path(p["state_file"], p["netns"])
        try:
            with open(path, encoding="utf-8") as f:
                recorded = json.load(f).get("changes") or []
        except FileNotFoundError:
            recorded = []
        except (OSError, ValueError, AttributeError) as e:
            module.fail_json(msg="state_file: cannot read the record %s: %s" % (path, e))
        module.exit_json(changed=bool(recorded), changes=[], notes=["%d changes recorded in %s" % (len(recorded), path)])

    if p["state"] == "absent":
        cmd = base + ["undo"] + (["--state", p["state_file"]] if p["state_file"] else [])
    elif p["state"] == "checked":
        cmd = base + ["check", "--json"] + host_args(p)
    elif module.check_mode:
        cmd = base + ["prepare", "--dry-run"] + host_args(p)
    else:
        cmd = base + ["prepare"] + host_args(p)

    rc, out, err = module.run_command(cmd)
    if p["state"] == "checked":
        if rc not in (0, 1):
            module.fail_json(msg=err.strip() or out.strip(), rc=rc, cmd=cmd)
        try:
            problems = json.loads(out)
        except ValueError as e:
            module.fail_json(msg="cannot read the output of check --json: %s" % e, rc=rc, stdout=out, cmd=cmd)
        if problems:
            msg = "not a ready real server: " + "; ".join("%s (%s)" % (x["kind"], x["where"]) for x in problems)
            module.fail_json(msg=msg, ready=False, problems=problems, cmd=cmd)
        module.exit_json(changed=False, ready=True, problems=[], cmd=cmd)

    if rc != 0:
        # Standard error is "ipvs: " then the changes done before the failure, one a line,
        # then the error.
        text = err.strip()
        if text.startswith("ipvs: "):
            text = text[len("ipvs: "):]
        lines = text.splitlines() or [out.strip()]
        module.fail_json(msg=lines[-1], changed=len(lines) > 1, changes=lines[:-1], rc=rc, cmd=cmd, stdout=out, stderr=err)

    changes, notes = split_output(out)
    if module.check_mode:
        changes = [c[len("would: "):] if c.startswith("would: ") else c for c in changes]
    module.exit_json(changed=bool(changes), changes=changes, notes=notes, cmd=cmd)


if __name__ == "__main__":
    main()
