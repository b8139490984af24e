"""`make run` is local and offline: the server listens on 127.0.0.1 only and contacts no other host.

The server is started as `make run` starts it (from the repository root, so that
``.streamlit/config.toml`` applies, without an address flag), with an audit hook
(``sys.addaudithook`` in a ``sitecustomize``) that logs every host it resolves or connects to.
A websocket session then runs the app once, as a browser's first visit does.
"""

import asyncio
import ipaddress
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from streamlit_server import wait_until_healthy

from kgviz.serve import free_port

ROOT = Path(__file__).resolve().parents[1]
PROBE = r"""
import os, sys
_LOG = os.environ["KGVIZ_NET_LOG"]

def _log_hosts(event, args):
    if event in ("socket.connect", "socket.sendto", "socket.bind"):
        address = args[-1]
        host = address[0] if isinstance(address, tuple) else None
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
        host = args[0]
    else:
        return
    if host is not None:
        with open(_LOG, "a", encoding="utf-8") as f:
            f.write(f"{event} {host!s}\n")

with open(_LOG, "a", encoding="utf-8") as f:
    f.write("started -\n")
sys.addaudithook(_log_hosts)
"""


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets in LISTEN state on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table, size in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        if not Path(table).exists():
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            hex_ip, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(hex_ip)
                # /proc stores each 32-bit word in host (little-endian) order
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                found.add(str(ipaddress.ip_address(words if size == 16 else raw[::-1])))
    return found


def is_loopback(host: str) -> bool:
    if host in ("localhost", "None", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


async def run_app_once(port: int) -> int:
    """Open a session as a browser does and wait for the app's first run to finish; messages seen."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    async with websockets.connect(
        f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"], max_size=None
    ) as ws:
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        await ws.send(rerun.SerializeToString())
        count = 0
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(ws.recv(), timeout=240))
            count += 1
            if msg.WhichOneof("type") == "script_finished":
                return count


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_server_listens_on_loopback_and_contacts_no_outside_host(tmp_path):
    pytest.importorskip("websockets")
    (tmp_path / "sitecustomize.py").write_text(PROBE)
    log = tmp_path / "hosts.log"
    port = free_port()
    env = dict(os.environ, KGVIZ_NET_LOG=str(log), PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_healthy(proc, f"http://127.0.0.1:{port}", timeout_s=120)
        assert listening_addresses(port) == {"127.0.0.1"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            assert r.status == 200
        assert asyncio.run(run_app_once(port)) > 3
    finally:
        proc.terminate()
        try:
            out = proc.communicate(timeout=20)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            proc.kill()
            out = proc.communicate()[0].decode(errors="replace")
    assert "External URL" not in out and "Network URL" not in out, out
    assert log.exists(), "the audit hook did not run in the server"
    events = [line.split(" ", 1) for line in log.read_text().splitlines()]
    hosts = {host for event, host in events if event != "started"}
    assert any(event == "socket.bind" for event, _ in events), events  # the hook sees the server's sockets
    assert all(is_loopback(h) for h in hosts), f"outside hosts contacted: {sorted(hosts)}"


def test_make_run_defaults_to_loopback_and_the_benchmark_data():
    if not Path("/usr/bin/make").exists():
        pytest.skip("make is not installed")
    dry = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "--server.address 127.0.0.1" in dry and "--browser.gatherUsageStats false" in dry
    assert 'KGVIZ_DATA="${KGVIZ_DATA:-../shared/ingram-data}"' in dry
    exposed = subprocess.run(
        ["make", "-n", "run", "HOST=0.0.0.0"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "--server.address 0.0.0.0" in exposed
