"""Desired state from Python: Table, Plan, apply, save and restore; on the mock everywhere and
on the real kernel in the lab."""

from __future__ import annotations

import copy
import errno
import json
from typing import Any, Dict, List, Type

import pytest

import ipvs

# A table using most of what the schema holds: persistence and netmask, scheduler flags,
# IPv6, a firewall-mark service, every forwarding method, thresholds, weight 0, timeouts.
RULES = """\
--set 100 10 20
-A -t 192.0.2.1:80 -s wrr -p 300 -M 255.255.255.0
-a -t 192.0.2.1:80 -r 198.51.100.1:80 -g -w 1
-a -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 2 -x 100 -y 10
-A -t 192.0.2.1:443 -s rr
-A -u [2001:db8::1]:53 -s mh -b mh-port
-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -m -w 0
-A -f 7 -s rr
-a -f 7 -r 198.51.100.3:0 -i -w 3 --tun-type ipip
"""

# What `ipvsadm -Sn` prints for RULES: ipvsadm's order, no timeouts, no thresholds.
SAVED = """\
-A -t 192.0.2.1:80 -s wrr -p 300 -M 255.255.255.0
-a -t 192.0.2.1:80 -r 198.51.100.1:80 -g -w 1
-a -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 2
-A -t 192.0.2.1:443 -s rr
-A -u [2001:db8::1]:53 -s mh -b mh-port
-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -m -w 0
-A -f 7 -s rr
-a -f 7 -r 198.51.100.3:0 -i -w 3 --tun-type ipip
"""

WEB = ipvs.Service(protocol="tcp", address="192.0.2.1", port=80, scheduler="rr")
TLS = ipvs.Service(protocol="tcp", address="192.0.2.1", port=443, scheduler="rr")
DNS = ipvs.Service(protocol="udp", address="192.0.2.1", port=53, scheduler="rr")
MARK = ipvs.Service(fwmark=7, scheduler="rr")


def dest(host: int, weight: int = 1) -> ipvs.Destination:
    return ipvs.Destination(f"198.51.100.{host}", port=80, forward="nat", weight=weight)


def table(*entries: Any) -> ipvs.Table:
    """A table of (service, [destinations]) pairs."""
    t = ipvs.Table()
    for svc, dests in entries:
        t.add_service(svc, dests)
    return t


def kernel_config(client: ipvs.Client) -> ipvs.Table:
    """The kernel's table without its timeouts (which a desired table may leave unsaid)."""
    t = client.table()
    t.timeouts = None
    return t


# ----- Table ---------------------------------------------------------------------------


def test_round_trips_through_every_format() -> None:
    t = ipvs.Table.from_rules(RULES)
    assert len(t) == 4 and t.destination_count == 4
    assert ipvs.Table.from_toml(t.to_toml()) == t
    assert ipvs.Table.from_json(t.to_json()) == t
    assert ipvs.Table.from_dict(t.to_dict()) == t
    assert ipvs.Table.from_rules(t.to_rules()) == t
    # The dict is the file schema, keys in its order, defaults left out; JSON the same.
    d = t.to_dict()
    assert d == json.loads(t.to_json())
    assert d["timeouts"] == {"tcp": 100, "tcp_fin": 10, "udp": 20}
    web = d["services"][0]
    assert list(web)[:3] == ["protocol", "address", "port"]
    assert web["destinations"][1] == {
        "address": "198.51.100.2", "port": 8080, "forward": "nat", "weight": 2,
        "upper_threshold": 100, "lower_threshold": 10,
    }
    assert "weight" not in web["destinations"][0]  # 1, the default
    # A change in any one setting makes another table.
    d["services"][0]["destinations"][1]["lower_threshold"] = 11
    assert ipvs.Table.from_dict(d) != t
    d = t.to_dict()
    d["timeouts"]["udp"] = 21
    assert ipvs.Table.from_dict(d) != t


def test_a_table_is_built_read_and_changed_as_configuration() -> None:
    t = table((WEB, [dest(2, 3), dest(1)]), (MARK, []))
    assert t.services == [WEB, MARK] and list(t) == [WEB, MARK]
    assert t.destinations(WEB) == [dest(1), dest(2, 3)]  # in address order
    assert WEB in t and TLS not in t and "WEB" not in t
    status, dests = t.entries()[0]
    assert status.service == WEB and status.stats.conns == 0
    assert [d.destination for d in dests] == [dest(1), dest(2, 3)] and dests[0].active_conns == 0
    assert repr(t) == "<ipvs.Table: 2 services, 2 destinations>"
    # Equality is on configuration, whatever the order things were added in.
    assert t == table((MARK, []), (WEB, [dest(1), dest(2, 3)]))
    assert t != table((WEB, [dest(1), dest(2, 3)]))
    with pytest.raises(TypeError):
        hash(t)
    # Named twice: refused, the table unchanged.
    with pytest.raises(ValueError, match="named twice"):
        t.add_service(WEB)
    with pytest.raises(ValueError, match="named twice"):
        t.add_service(TLS, [dest(1), dest(1)])
    assert TLS not in t
    with pytest.raises(ValueError, match="named twice"):
        t.add_destination(WEB, dest(1, 5))
    with pytest.raises(KeyError):
        t.add_destination(TLS, dest(1))
    with pytest.raises(KeyError):
        t.destinations(TLS)
    # A copy is apart.
    c = copy.copy(t)
    assert c.remove_destination(WEB, dest(2)) and not c.remove_destination(WEB, dest(2))
    assert c.remove_service(MARK) and not c.remove_service(MARK)
    assert c != t and len(t) == 2 and t.destination_count == 2
    # Timeouts: None (not managed) or every one set.
    assert t.timeouts is None
    t.timeouts = ipvs.Timeouts(tcp=900, tcp_fin=120, udp=300)
    assert t.timeouts == ipvs.Timeouts(tcp=900, tcp_fin=120, udp=300)
    assert "--set 900 120 300" in t.to_rules()
    with pytest.raises(ValueError, match="timeouts"):
        t.timeouts = ipvs.Timeouts(tcp=900)
    t.timeouts = None
    assert "--set" not in t.to_rules()


def test_bad_files_name_the_line_the_field_and_the_value() -> None:
    toml = 'timeouts = {tcp = 1, tcp_fin = 1, udp = 1}\n\n[[services]]\nprotocol = "tcp"\naddress = "192.0.2.1"\nport = 80\nscheduler = "nope"\n'
    with pytest.raises(ValueError, match=r'^7:13: services\[0\]\.scheduler: invalid scheduler "nope": unknown scheduler'):
        ipvs.Table.from_toml(toml)
    bad_json = '{"services": [{"protocol": "tcp", "address": "192.0.2.1",\n "port": 80, "scheduler": "nope"}]}'
    with pytest.raises(ValueError, match=r'^2:\d+: services\[0\]\.scheduler: invalid scheduler "nope"'):
        ipvs.Table.from_json(bad_json)
    with pytest.raises(ValueError, match=r'^services\[0\]\.scheduler: invalid scheduler "nope"'):
        ipvs.Table.from_dict(json.loads(bad_json))
    data: Dict[str, Any] = {"services": [{"protocol": "tcp", "address": "192.0.2.1", "port": 80, "colour": "red"}]}
    with pytest.raises(ValueError, match="colour"):
        ipvs.Table.from_dict(data)
    with pytest.raises(ValueError, match=r"services\[0\]\.port: .*70000"):
        ipvs.Table.from_dict({"services": [{"protocol": "tcp", "address": "192.0.2.1", "port": 70000}]})
    with pytest.raises(TypeError, match=r"services\[0\]\.port"):
        ipvs.Table.from_dict({"services": [{"protocol": "tcp", "address": "192.0.2.1", "port": object()}]})
    with pytest.raises(ValueError, match="^line 2: "):
        ipvs.Table.from_rules("-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1 -w x\n")
    with pytest.raises(ValueError, match="^line 1: .*a table holds"):
        ipvs.Table.from_rules("-D -t 192.0.2.1:80\n")
    # ipaddress objects are addresses in a dict.
    import ipaddress

    t = ipvs.Table.from_dict({"services": [{"protocol": "tcp", "address": ipaddress.ip_address("192.0.2.1"), "port": 80}]})
    assert t.services == [ipvs.Service(protocol="tcp", address="192.0.2.1", port=80)]


@pytest.mark.parametrize(
    "build,error,words",
    [
        (lambda: ipvs.Table.from_toml("\ud800"), ValueError, "text"),
        (lambda: ipvs.Table.from_rules(b"-A -t 192.0.2.1:80"), TypeError, "text"),  # type: ignore[arg-type]
        (lambda: ipvs.Table.from_dict([]), TypeError, "data"),  # type: ignore[arg-type]
        (lambda: ipvs.Table.from_dict({1: 2}), TypeError, "data key"),  # type: ignore[dict-item]
        (lambda: ipvs.Table.from_dict({"\ud800": 2}), ValueError, "data key"),
        (lambda: ipvs.Table.from_dict({"services": [{"port": float("nan")}]}), ValueError, r"services\[0\]\.port"),
        (lambda: ipvs.Table.from_dict({"services": [{"port": 2**64}]}), ValueError, r"services\[0\]\.port"),
        (lambda: ipvs.Table.from_json("[" * 100_000), ValueError, r"^1:\d+: "),
        (lambda: ipvs.Table.from_toml("a = " + "[" * 100_000), ValueError, "recursion"),
        (lambda: ipvs.Client.mock().restore("-A " + "x" * 70_000), ValueError, "^line 1: "),
    ],
)
def test_hostile_input_is_a_type_or_value_error(build: Any, error: Type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        build()


def test_nesting_without_end_is_refused() -> None:
    loop: List[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="nested deeper"):
        ipvs.Table.from_dict({"services": loop})


# ----- Plan and apply --------------------------------------------------------------------


def test_a_plan_of_a_change_is_the_ipvsadm_lines_of_it(client: ipvs.Client) -> None:
    client.apply(table((WEB, [dest(1), dest(2)])))
    desired = table((WEB.replace(scheduler="wrr"), [dest(1, 5), dest(3)]), (TLS, []))
    plan = client.plan(desired)
    assert plan.to_rules() == (
        "-E -t 192.0.2.1:80 -s wrr\n"
        "-A -t 192.0.2.1:443 -s rr\n"
        "-e -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 5\n"
        "-a -t 192.0.2.1:80 -r 198.51.100.3:80 -m -w 1\n"
        "-d -t 192.0.2.1:80 -r 198.51.100.2:80\n"
    )
    assert [(s.operation, s.target, s.why) for s in plan.steps] == [
        ("update_service", "TCP 192.0.2.1:80", "changed: scheduler"),
        ("add_service", "TCP 192.0.2.1:443", "new service"),
        ("update_destination", "TCP 192.0.2.1:80 -> 198.51.100.1:80", "changed: weight"),
        ("add_destination", "TCP 192.0.2.1:80 -> 198.51.100.3:80", "new destination"),
        ("delete_destination", "TCP 192.0.2.1:80 -> 198.51.100.2:80", "drained: no connection left"),
    ]
    assert [s.command for s in plan] == plan.to_rules().splitlines()
    assert plan.summary == "1 service new, 1 service changed, 1 destination new, 1 destination changed, 1 destination removed"
    assert len(plan) == 5 and plan and plan.draining == []
    assert json.loads(plan.to_json())["steps"][4]["command"] == "-d -t 192.0.2.1:80 -r 198.51.100.2:80"
    # Planning wrote nothing.
    assert [s.service for s in client.services()] == [WEB]
    # Deleting at once rather than draining: another reason.
    assert client.plan(desired, delete_at_once=True).steps[4].why == "leaving"


def test_apply_converges_and_again_writes_nothing(client: ipvs.Client) -> None:
    desired = table((WEB, [dest(1), dest(2, 2)]), (MARK, [dest(3)]))
    report = client.apply(desired)
    assert (report.writes, report.failures, report.converged) == (5, [], True)
    assert report.summary == "5 writes, 0 failed, 0 draining, converged" and not report.dry_run
    assert not report.remaining and report.draining == []
    assert kernel_config(client) == desired
    again = client.apply(desired)
    assert again.writes == 0 and again.converged
    # A change: only it is written.
    changed = table((WEB, [dest(1), dest(2, 7)]), (MARK, [dest(3)]))
    report = client.apply(changed)
    assert report.writes == 1 and report.converged
    assert kernel_config(client) == changed
    # Timeouts the table sets are applied too.
    changed.timeouts = ipvs.Timeouts(tcp=800, tcp_fin=100, udp=200)
    assert client.apply(changed).writes == 1
    assert client.timeouts() == ipvs.Timeouts(tcp=800, tcp_fin=100, udp=200)
    assert client.table() == changed


def test_dry_run_and_applying_a_plan(client: ipvs.Client) -> None:
    desired = table((WEB, [dest(1)]))
    dry = client.apply(desired, dry_run=True)
    assert dry.dry_run and dry.writes == 0 and not dry.converged
    assert dry.remaining.to_rules() == "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1\n"
    assert dry.summary == "dry run: 1 service new, 1 destination new"
    assert client.services() == []
    plan = client.plan(desired)
    with pytest.raises(ValueError, match="a Plan is applied as it was made"):
        client.apply(plan, prune=True)
    assert client.apply(plan, dry_run=True).remaining.to_rules() == plan.to_rules()
    assert client.apply(plan).writes == 2
    assert client.apply(desired, dry_run=True).converged
    with pytest.raises(TypeError, match="desired: expected Table or Plan"):
        client.apply("-A -t 192.0.2.1:80")  # type: ignore[arg-type]


def test_failures_are_reported_with_their_request_and_error(client: ipvs.Client) -> None:
    desired = table((WEB, [dest(1)]))
    plan = client.plan(desired)
    # Meanwhile someone adds the service, with another scheduler.
    client.add_service(WEB.replace(scheduler="wlc"))
    report = client.apply(plan)
    assert report.writes == 1 and not report.converged
    [f] = report.failures
    assert (f.command, f.operation, f.target) == ("-A -t 192.0.2.1:80 -s rr", "add_service", "TCP 192.0.2.1:80")
    assert f.errno == errno.EEXIST
    assert isinstance(f.error, ipvs.IpvsError) and isinstance(f.error, FileExistsError)
    assert report.remaining.to_rules() == "-E -t 192.0.2.1:80 -s rr\n"
    assert report.summary == "1 write, 1 failed, 0 draining, not converged"
    assert client.apply(desired).converged


def test_scope_and_prune_decide_what_is_touched(client: ipvs.Client) -> None:
    other = ipvs.Service(protocol="tcp", address="192.0.2.9", port=80, scheduler="rr")
    current = table((WEB, [dest(1)]), (TLS, [dest(1)]), (DNS, [dest(1)]), (MARK, [dest(1)]), (other, []))
    client.apply(current)
    desired = table((WEB, [dest(2)]))

    # Default: only the services named; the others untouched.
    assert client.apply(desired).converged
    assert len(client.services()) == 5
    assert kernel_config(client).destinations(TLS) == [dest(1)]

    # A desired service outside the selectors is refused, with or without prune.
    with pytest.raises(ValueError, match="outside the scope"):
        client.plan(desired, scope="udp")
    with pytest.raises(ValueError, match="outside the scope"):
        client.plan(desired, scope="udp", prune=True)
    # Selectors without prune only check.
    assert not client.plan(desired, scope="192.0.2.0/24,tcp,port=80")

    # Prune within selectors: TCP services in 192.0.2.0/30 and mark 7 go, the others stay.
    plan = client.plan(desired, scope=["192.0.2.0/30,tcp", "fwmark=5-9"], prune=True)
    assert plan.to_rules() == "-D -t 192.0.2.1:443\n-D -f 7\n"
    report = client.apply(desired, scope=("192.0.2.0/30,tcp", "fwmark=5-9"), prune=True)
    assert report.converged and report.writes == 2
    assert {str(s.service) for s in client.services()} == {"TCP 192.0.2.1:80", "UDP 192.0.2.1:53", "TCP 192.0.2.9:80"}

    # Prune without selectors: everything not named goes.
    assert client.apply(desired, prune=True).writes == 2
    assert kernel_config(client) == desired


def test_plans_between_two_tables() -> None:
    current = table((WEB, [dest(1)]), (DNS, []))
    desired = table((WEB, [dest(1), dest(2)]))
    assert ipvs.Plan(current, desired).to_rules() == "-a -t 192.0.2.1:80 -r 198.51.100.2:80 -m -w 1\n"
    pruned = ipvs.Plan(current, desired, prune=True)
    assert pruned.to_rules().splitlines() == ["-a -t 192.0.2.1:80 -r 198.51.100.2:80 -m -w 1", "-D -u 192.0.2.1:53"]
    assert ipvs.Plan(current, desired, scope="tcp", prune=True).to_rules().count("\n") == 1
    empty = ipvs.Plan(desired, desired)
    assert not empty and len(empty) == 0 and empty.summary == "no change" and list(empty) == []


def test_bad_scopes_name_the_value(client: ipvs.Client) -> None:
    desired = table((WEB, []))
    for bad, word in [("icmp", "'icmp'"), ("port=9-1", "'port=9-1'"), ("192.0.2.0/33", "'192.0.2.0/33'")]:
        with pytest.raises(ValueError, match=word):
            client.plan(desired, scope=bad)
    with pytest.raises(ValueError, match=r"scope\[1\]: 'fwmark=x'"):
        client.plan(desired, scope=["tcp", "fwmark=x"], prune=True)
    with pytest.raises(TypeError, match="scope"):
        client.plan(desired, scope=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"scope\[0\]"):
        client.plan(desired, scope=[b"tcp"])  # type: ignore[list-item]
    assert client.services() == []


# ----- save and restore ------------------------------------------------------------------


def test_save_prints_what_ipvsadm_saves(client: ipvs.Client) -> None:
    assert client.save() == ""
    assert client.restore(RULES) == 9
    assert client.save() == SAVED
    # Table.to_rules is the lossless variant: thresholds and timeouts kept.
    rules = client.table().to_rules()
    assert "-x 100 -y 10" in rules and rules.startswith("--set 100 10 20\n")
    assert ipvs.Table.from_rules(rules) == ipvs.Table.from_rules(RULES)


def test_restore_then_save_round_trips(client: ipvs.Client) -> None:
    assert client.restore(SAVED) == 8
    assert client.save() == SAVED
    # Any command: edits, deletions, comments and blank lines.
    n = client.restore("# edits\n\n-E -t 192.0.2.1:443 -s wrr\n-d -f 7 -r 198.51.100.3\n-D -u [2001:db8::1]:53\n")
    assert n == 3
    assert client.save() == SAVED.replace("-A -t 192.0.2.1:443 -s rr", "-A -t 192.0.2.1:443 -s wrr").replace(
        "-A -u [2001:db8::1]:53 -s mh -b mh-port\n-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -m -w 0\n", ""
    ).replace("-a -f 7 -r 198.51.100.3:0 -i -w 3 --tun-type ipip\n", "")


def test_restore_names_the_bad_line_and_sends_nothing_of_a_bad_text(client: ipvs.Client) -> None:
    with pytest.raises(ValueError, match=r'^line 3: invalid weight "x"'):
        client.restore("-A -t 192.0.2.1:80 -s rr\n\n-a -t 192.0.2.1:80 -r 198.51.100.1 -w x\n")
    with pytest.raises(ValueError, match=r"^line 1: "):
        client.restore("-Q\n")
    assert client.services() == []


def test_restore_raises_the_first_failed_line(client: ipvs.Client) -> None:
    text = (
        "-A -t 192.0.2.1:80 -s rr\n"
        "-A -t 192.0.2.1:80 -s wrr\n"  # exists
        "-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m\n"
        "-d -t 192.0.2.1:80 -r 198.51.100.9:80\n"  # no such destination
    )
    with pytest.raises(FileExistsError) as info:
        client.restore(text)
    assert isinstance(info.value, ipvs.IpvsError) and info.value.errno == errno.EEXIST
    assert str(info.value).startswith("[Errno 17] line 2 (2 lines failed: 2, 4): add_service TCP 192.0.2.1:80")
    # Nothing silently skipped: the lines that did not fail took effect.
    assert client.save() == "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1\n"
    with pytest.raises(ipvs.IpvsError, match=r"^\[Errno 17\] line 1: "):
        client.restore("-A -t 192.0.2.1:80 -s rr\n")


def test_a_closed_client_refuses_the_state_calls() -> None:
    c = ipvs.Client.mock()
    c.close()
    calls: List[Any] = [
        c.table,
        c.save,
        lambda: c.plan(ipvs.Table()),
        lambda: c.apply(ipvs.Table()),
        lambda: c.restore("-C\n"),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="closed"):
            call()
