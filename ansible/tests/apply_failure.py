"""ipvs_table when a write fails: another writer adds the service between the module's plan
and its apply (on the in-memory kernel), so the add fails with EEXIST. Prints the module's
result (JSON). Run by mock-integration.sh with the collection root on sys.path."""

import contextlib
import io
import sys
import types

import ipvs
from ansible.module_utils.testing import patch_module_args
from ansible_collections.ipvs.ipvs.plugins.modules import ipvs_table


class Racing:
    """A mock client on which someone adds the service, with another scheduler, just before
    the apply."""

    def __init__(self):
        self.client = ipvs.Client.mock()

    def __getattr__(self, name):
        return getattr(self.client, name)

    def apply(self, plan):
        self.client.add_service(ipvs.Service(protocol="tcp", address="192.0.2.1", port=80, scheduler="wlc"))
        return self.client.apply(plan)


ipvs_table.ipvs = types.SimpleNamespace(Table=ipvs.Table, Client=types.SimpleNamespace(mock=Racing))
desired = {"services": [{"protocol": "tcp", "address": "192.0.2.1", "port": 80, "scheduler": "rr",
                         "destinations": [{"address": "198.51.100.1", "forward": "nat"}]}]}
out = io.StringIO()
with patch_module_args({"table": desired, "mock_state": sys.argv[1]}), contextlib.redirect_stdout(out):
    try:
        ipvs_table.main()
    except SystemExit:
        pass
print(out.getvalue().strip())
