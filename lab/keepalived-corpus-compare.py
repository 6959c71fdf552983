#!/usr/bin/env python3
"""The keepalived.conf corpus's comparison (run by lab/keepalived-corpus.sh): what keepalived's
config test and ours said of each file, side by side.

    keepalived-corpus-compare.py WORKDIR FILE...

WORKDIR holds, for the N-th FILE (from 1), N.k (keepalived -t's output), N.o (ours') and N.rc
("K O": their exit statuses). keepalived "starts" on a file when -t exits 0, 5 or 6 (0:
nothing to say; 5 and 6: problems it falls back from and runs); ours when --check-config
exits 0. Each "accepts it without a word" when it starts and prints nothing (ours: no
warning).

Warnings are compared as sets of lines: the lines keepalived names, "(FILE: Line N)" or "(Line
N)", against those of ours' "FILE:N: warning:" lines. keepalived gives some warnings without
a line (those it finds after reading, such as "Disabling track script chk since not
found/accessible"); ours gives each at its line. Such a warning of keepalived's matches as
many of ours of the same kind (PAIRS) as it gave. Left out of the comparison and counted
apart, ours' notes for what keepalived does without a word: keywords accepted without effect
here ("accepted without effect"), and what keepalived takes silently ("without a word": the
words a keyword does not take, an argument of a keyword that takes none, a prefix length
where an address is meant).

Prints a line per file that differs (which starts, and each side's lines the other lacks),
then the totals:
    corpus: N files; keepalived starts on K, ours on O (on every file keepalived starts on: X of K)
    corpus: accepted without a word: keepalived A, ours B (C with no warning besides its notes)
    corpus: the same warnings on W of the K files keepalived starts on (...)
Exits 1 if ours crashed or hung (exit status 124 or more) on any file, else 0.
"""

import os
import re
import sys

# keepalived's warnings without a line, each with the kind of ours' warnings it matches.
PAIRS = [
    (r"Disabling track script \S+ since not found", r"is not found or not executable: the script"),
    (r"Warning - nopreempt will not work with initial state MASTER", r"nopreempt: does not work with initial state MASTER"),
    (r"Warning - preempt delay will not work with initial state MASTER", r"preempt_delay: does not work with initial state MASTER"),
    (r"nopreempt is incompatible with priority 255", r"nopreempt: the address owner \(priority 255\) always preempts"),
    (r"no forwarding method set, setting default NAT", r"no forwarding method"),
    (r"no scheduler set, setting default", r"no scheduler"),
    (r"no protocol set - defaulting to UDP", r"no protocol: UDP"),
    (r"protocol specified for fwmark - protocol will be ignored", r"a firewall-mark virtual server has no protocol"),
    (r"specified in sync group \S+ doesn't exist - ignoring", r"no vrrp_instance of this name: left out of the group"),
    (r"no matching virtual router found in group declaration - removing", r"no member is a vrrp_instance"),
    (r"No VIP specified; at least one is sensible", r"no virtual address: the instance runs without one"),
    (r"Authentication specified but no password given", r"auth_type PASS without auth_pass"),
    (r"There are \d+ missing '\}'", r"its block is not closed"),
    (r"ports don't match - resetting", r"differs from the virtual port"),
    (r"Ignoring track_interface \S+ since own interface", r"the instance's own interface: not tracked"),
]
NUMBERED = re.compile(r"^\(([^)]*: )?Line (\d+)\) ?(.*)")
OURS = re.compile(r"^.*?:(\d+): warning: (.*)")
NOTES = (": accepted without effect: ", "without a word")


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\n") for line in f]


def compare(k_out, o_out):
    """(keepalived's lines, ours' lines, notes): each side's lines left after matching."""
    k_lines, unlined = set(), []
    for line in k_out:
        m = NUMBERED.match(line)
        if m:
            k_lines.add(int(m.group(2)))
        elif line.strip() and line not in unlined:
            # (keepalived's processes each print what they find: counted once.)
            unlined.append(line)
    ours, notes = [], 0
    for line in o_out:
        m = OURS.match(line)
        if not m:
            continue
        if any(n in m.group(2) for n in NOTES):
            notes += 1
        else:
            ours.append((int(m.group(1)), m.group(2)))
    # keepalived's warnings without a line match ours of their kind, as many as it gave;
    # those left match none of ours.
    missing = []
    for k_re, o_re in PAIRS:
        given = [line for line in unlined if re.search(k_re, line)]
        kept = []
        for line, text in ours:
            if given and line not in k_lines and re.search(o_re, text):
                given.pop()
            else:
                kept.append((line, text))
        ours = kept
        missing += given
    return k_lines, ours, notes, missing


def main():
    work, files = sys.argv[1], sys.argv[2:]
    totals = dict(k_starts=0, o_starts=0, covers=0, k_quiet=0, o_quiet=0, o_quiet_notes=0, same=0, notes=0, noted=0, broken=0)
    for n, path in enumerate(files, 1):
        name = os.path.basename(path)
        k_out, o_out = read(f"{work}/{n}.k"), read(f"{work}/{n}.o")
        k, o = map(int, read(f"{work}/{n}.rc")[0].split())
        if o >= 124:
            print(f"corpus {name}: ours CRASHED OR HUNG (exit {o}; keepalived exit {k})")
            for line in o_out[:5]:
                print(f"    {line}")
            totals["broken"] += 1
            continue
        if k >= 124:
            print(f"corpus {name}: keepalived's config test was stopped (exit {k}: hung, crashed or killed): counted as not starting")
        k_run, o_run = k in (0, 5, 6), o == 0
        totals["k_starts"] += k_run
        totals["o_starts"] += o_run
        totals["covers"] += k_run and o_run
        totals["k_quiet"] += k == 0 and not any(line.strip() for line in k_out)
        totals["o_quiet"] += o == 0 and not any(": warning: " in line for line in o_out)
        warned = any(": warning: " in x and not any(n in x for n in NOTES) for x in o_out)
        totals["o_quiet_notes"] += o == 0 and not warned
        k_lines, ours, notes, missing = compare(k_out, o_out)
        totals["notes"] += notes
        totals["noted"] += notes > 0
        o_lines = {line for line, _ in ours}
        if k_run and o_run and k_lines == o_lines and not missing:
            totals["same"] += 1
            continue
        if k_run != o_run:
            said = lambda run: "starts" if run else "refuses"
            print(f"corpus {name}: keepalived {said(k_run)} (exit {k}), ours {said(o_run)} (exit {o})")
            for line in [x for x in k_out if x.strip()][:6]:
                print(f"    keepalived: {line}")
            for line in [x for x in o_out if not any(n in x for n in NOTES) and x.strip()][:6]:
                print(f"    ours: {line.replace(path, name)}")
            continue
        print(f"corpus {name}: warnings at other lines: keepalived only at {sorted(k_lines - o_lines)}, ours only at {sorted(o_lines - k_lines)}")
        for line in k_out:
            m = NUMBERED.match(line)
            if m and int(m.group(2)) not in o_lines:
                print(f"    keepalived: {line.replace(path, name)}")
        for line in missing:
            print(f"    keepalived (no line; ours has none of this kind): {line}")
        for line, text in ours:
            if line not in k_lines:
                print(f"    ours: {name}:{line}: {text}")
    t = totals
    print(f"corpus: {len(files)} files; keepalived starts on {t['k_starts']}, ours on {t['o_starts']} "
          f"(on every file keepalived starts on: {t['covers']} of {t['k_starts']})")
    print(f"corpus: accepted without a word: keepalived {t['k_quiet']}, ours {t['o_quiet']} "
          f"({t['o_quiet_notes']} with no warning besides its notes)")
    print(f"corpus: the same warnings on {t['same']} of the {t['k_starts']} files keepalived starts on "
          f"(lines compared; keepalived's warnings without a line matched by kind; besides ours' {t['notes']} notes "
          f"of what keepalived does without a word, in {t['noted']} files)")
    return 1 if t["broken"] else 0


if __name__ == "__main__":
    sys.exit(main())
