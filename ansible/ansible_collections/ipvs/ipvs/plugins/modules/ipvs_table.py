#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: The ipvs developers
# SPDX-License-Identifier: MIT OR Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ipvs_table
short_description: Make the IPVS table what a desired-state table says
description:
  - Plans the fewest writes from the kernel's IPVS table to a desired table and applies them
    with the C(ipvs) Python bindings (the same engine as C(ipvs apply)), then reads back what it
    touched.
  - By default only the services the desired table names are touched; O(prune) and O(scope)
    say what else may be.
  - Destinations that leave a TCP, SCTP or firewall-mark service are drained (set to weight 0,
    deleted once they have no connection left); UDP ones are deleted at once. Each run moves
    drains along; O(delete_at_once=true) deletes at once instead. The drain time limit
    (C(max_drain)) counts within one process only, so a one-shot module run never reaches it.
  - In check mode nothing is written; the result says what would be done.
version_added: 0.1.0
author: The ipvs developers (!UNKNOWN)
requirements:
  - The C(ipvs) Python package (the project's bindings) on the managed host.
  - Root or CAP_NET_ADMIN on the managed host, and the C(ip_vs) kernel module (not with
    O(mock_state)).
options:
  table:
    description:
      - The desired table as data, in the schema of the desired-state file (C(services),
        each with C(destinations); C(timeouts)), as C(ipvs.Table.from_dict) reads it.
      - Exactly one of O(table), O(content) and O(src) is required.
    type: dict
  content:
    description:
      - The desired table as text in O(format).
    type: str
  src:
    description:
      - A desired-state file on the managed host. Its format is O(format) or, when that is not
        given, its extension (C(.toml), C(.json), C(.rules)).
      - For a file on the controller use O(content) with a C(file) lookup.
    type: path
  format:
    description:
      - The format of O(content) (required with it) or O(src).
      - V(rules) is ipvsadm rules, as C(ipvsadm -S) or C(ipvs export --format rules) writes them.
    type: str
    choices: [toml, json, rules]
  scope:
    description:
      - The services the plan may touch, as selectors. Without O(scope) and O(prune), only the
        services the desired table names.
      - A selector is comma-separated conditions that must all hold, among an address prefix
        (V(192.0.2.0/24), V(2001:db8::/32)), a protocol (V(tcp), V(udp), V(sctp)),
        V(port=N) or V(port=N-M), V(fwmark=N) or V(fwmark=N-M); for example
        V(tcp,192.0.2.0/24,port=80-90).
      - A list is several selectors, any of which may match. A string is one selector (its
        commas are conditions of that selector, not a list).
      - Without O(prune), a desired service outside the scope is an error.
    type: raw
  prune:
    description:
      - Also remove the services in O(scope) (every service, without O(scope)) that the desired
        table does not name.
    type: bool
    default: false
  delete_at_once:
    description:
      - Delete leaving destinations at once instead of draining them.
    type: bool
    default: false
  netns:
    description:
      - Work on the IPVS table of the network namespace at this path (C(/run/netns/NAME),
        C(/proc/PID/ns/net)).
    type: path
  mock_state:
    description:
      - For tests only. Works on the in-memory model of the kernel (C(ipvs.Client.mock())) instead
        of the kernel, loaded from this file's ipvsadm rules if it exists, and, unless in check
        mode, written back to it after the run, so that runs carry on from each other.
      - Needs neither root nor the C(ip_vs) module. Never use it to manage a real host.
    type: path
attributes:
  check_mode:
    support: full
    description: Plans only; the result lists the steps that would be applied.
  diff_mode:
    support: full
    description: The plan's commands, one ipvsadm command line each, as a prepared diff.
notes:
  - The module exits failed when a write fails or when the kernel, read again, does not hold
    the desired table (another writer changed it meanwhile); the result lists the failures and
    what is still to do. Applying again converges.
  - The desired-state file format, scopes, pruning and draining are described in
    C(docs/desired-state.md) of the project's source.
"""

EXAMPLES = r"""
- name: Web tier as it should be
  ipvs.ipvs.ipvs_table:
    table:
      services:
        - protocol: tcp
          address: 192.0.2.10
          port: 80
          scheduler: wrr
          destinations:
            - {address: 198.51.100.11, forward: nat, weight: 3}
            - {address: 198.51.100.12, forward: nat, weight: 2}

- name: Everything in 192.0.2.0/24 from a file on the controller, removing what it does not name
  ipvs.ipvs.ipvs_table:
    content: "{{ lookup('ansible.builtin.file', 'files/web.toml') }}"
    format: toml
    scope: 192.0.2.0/24
    prune: true

- name: A file on the managed host, in a network namespace
  ipvs.ipvs.ipvs_table:
    src: /etc/ipvs/web.rules
    netns: /run/netns/lb
"""

RETURN = r"""
writes:
  description: The writes that took effect (0 in check mode).
  returned: always when a plan was made
  type: int
  sample: 5
summary:
  description: The library's summary of the apply, or of the plan in check mode.
  returned: always when a plan was made
  type: str
  sample: 5 writes, 0 failed, 0 draining, converged
steps:
  description: The plan's steps as ipvsadm command lines, in order (applied, or in check mode
    to apply).
  returned: always when a plan was made
  type: list
  elements: str
  sample: ["-A -t 192.0.2.10:80 -s wrr", "-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 3"]
draining:
  description: The destinations left draining (weight 0, connections still open), as the
    library reports them.
  returned: always when a plan was made
  type: list
  elements: dict
  contains:
    service:
      description: The service.
      type: str
      sample: TCP 192.0.2.10:80
    destination:
      description: The destination.
      type: str
      sample: 198.51.100.13:80
    active_conns:
      description: Its active connections.
      type: int
    inactive_conns:
      description: Its inactive connections.
      type: int
    draining_seconds:
      description: How long this run has seen it draining (0 for a one-shot run).
      type: float
converged:
  description: Whether the kernel, read again, holds the desired table within the scope
    (draining destinations apart). In check mode, whether the plan is empty.
  returned: always when a plan was made
  type: bool
failures:
  description: The writes that failed, each with its ipvsadm command line and error.
  returned: failure of an apply
  type: list
  elements: dict
  contains:
    command:
      description: The ipvsadm command line of the request.
      type: str
    errno:
      description: The errno the kernel answered.
      type: int
    error:
      description: The error, in words.
      type: str
remaining:
  description: What is still to do after a failed or unconverged apply, as ipvsadm command lines.
  returned: failure of an apply
  type: list
  elements: str
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import ipvs
except ImportError:
    ipvs = None
    IPVS_IMPORT_ERROR = traceback.format_exc()
else:
    IPVS_IMPORT_ERROR = None

EXTENSIONS = {".toml": "toml", ".json": "json", ".rules": "rules"}


def desired_table(module):
    """The desired ipvs.Table from table, content or src; fails naming the option."""
    p = module.params
    if p["table"] is not None:
        try:
            return ipvs.Table.from_dict(p["table"])
        except (ValueError, TypeError) as e:
            module.fail_json(msg="table: %s" % e)
    fmt = p["format"]
    if p["content"] is not None:
        field, text = "content", p["content"]
    else:
        field = "src %s" % p["src"]
        if fmt is None:
            fmt = EXTENSIONS.get(os.path.splitext(p["src"])[1].lower())
            if fmt is None:
                module.fail_json(msg="src: cannot tell the format of %r from its extension "
                                 "(.toml, .json, .rules): set format" % p["src"])
        try:
            with open(p["src"], encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            module.fail_json(msg="src: cannot read %r: %s" % (p["src"], e))
    read = {"toml": ipvs.Table.from_toml, "json": ipvs.Table.from_json, "rules": ipvs.Table.from_rules}[fmt]
    try:
        return read(text)
    except (ValueError, TypeError) as e:
        module.fail_json(msg="%s (format %s): %s" % (field, fmt, e))


def selectors(module):
    """scope as the bindings take it: None or a list of selector strings."""
    scope = module.params["scope"]
    if scope is None or isinstance(scope, str):
        return scope
    if isinstance(scope, list) and all(isinstance(s, str) for s in scope):
        return scope
    module.fail_json(msg="scope: %r is neither a selector string nor a list of them" % (scope,))


def draining(items):
    return [dict(service=d.service, destination=d.destination, active_conns=d.active_conns,
                 inactive_conns=d.inactive_conns, draining_seconds=d.draining_seconds) for d in items]


def commands(plan):
    return [s.command for s in plan.steps]


def open_client(module):
    p = module.params
    try:
        if p["mock_state"] is None:
            return ipvs.Client(netns=p["netns"])
        client = ipvs.Client.mock()
        if os.path.exists(p["mock_state"]):
            with open(p["mock_state"], encoding="utf-8") as f:
                client.restore(f.read())
        return client
    except (OSError, ValueError) as e:
        if p["mock_state"] is not None:
            module.fail_json(msg="mock_state %s: %s" % (p["mock_state"], e))
        module.fail_json(msg="%s: %s" % ("netns %s" % p["netns"] if p["netns"] else "IPVS", e))


def save_mock(module, client):
    """Writes the in-memory table as ipvsadm rules (the full table, thresholds and timeouts
    included, unlike client.save()), replacing the file in one step."""
    path = module.params["mock_state"]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(client.table().to_rules())
    os.replace(tmp, path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            table=dict(type="dict"),
            content=dict(type="str"),
            src=dict(type="path"),
            format=dict(type="str", choices=["toml", "json", "rules"]),
            scope=dict(type="raw"),
            prune=dict(type="bool", default=False),
            delete_at_once=dict(type="bool", default=False),
            netns=dict(type="path"),
            mock_state=dict(type="path"),
        ),
        mutually_exclusive=[("table", "content", "src"), ("table", "format"), ("netns", "mock_state")],
        required_one_of=[("table", "content", "src")],
        required_by=dict(content="format"),
        supports_check_mode=True,
    )
    if ipvs is None:
        module.fail_json(msg=missing_required_lib("ipvs (the project's Python bindings)"), exception=IPVS_IMPORT_ERROR)

    desired = desired_table(module)
    scope = selectors(module)
    client = open_client(module)
    try:
        plan = client.plan(desired, scope=scope, prune=module.params["prune"],
                           delete_at_once=module.params["delete_at_once"])
    except ValueError as e:
        module.fail_json(msg="cannot plan (scope %r, prune %s): %s" % (scope, module.params["prune"], e))
    except OSError as e:
        module.fail_json(msg="cannot read the IPVS table: %s" % e)

    result = dict(steps=commands(plan), draining=draining(plan.draining))
    if module._diff:
        result["diff"] = dict(prepared=plan.to_rules())
    if module.check_mode:
        module.exit_json(changed=bool(plan), writes=0, summary=plan.summary, converged=not plan, **result)

    try:
        report = client.apply(plan)
    except OSError as e:
        module.fail_json(msg="apply failed: %s" % e, **result)
    if module.params["mock_state"] is not None and (report.writes or not os.path.exists(module.params["mock_state"])):
        save_mock(module, client)
    result.update(changed=report.writes > 0, writes=report.writes, summary=report.summary,
                  converged=report.converged, draining=draining(report.draining))
    if report.failures or not report.converged:
        failures = [dict(command=f.command, errno=f.errno, error=str(f.error)) for f in report.failures]
        lines = ["%s: %s" % (f["command"], f["error"]) for f in failures]
        module.fail_json(msg="; ".join([report.summary] + lines), failures=failures,
                         remaining=commands(report.remaining), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
