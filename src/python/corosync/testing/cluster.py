"""Real corosync clusters in network namespaces: :class:`Cluster` and its :class:`Node`.

Topology (see /work/shared/cluster-recipe.md for why each piece is needed):

* every node runs in its own network namespace, with its own ``/run`` (corosync locks
  ``/run/corosync.pid``), its own state directory and log file, all in a temp dir;
* a one-node cluster talks over ``lo`` (127.0.0.1; ``127.0.0.<L+1>`` for link L) in its
  namespace, nothing else;
* with two or more nodes, a "switch" namespace holds a bridge ``br0``; node i has a veth pair
  ``cst<K>n<i>`` (in the node's namespace, address ``10.213.K.i/24``) to ``cst<K>s<i>`` (in
  the switch, enslaved to the bridge). Nothing is added to the host's namespace and there
  are no default routes, so cluster traffic never leaves the machine.

``Cluster(n, links=m)`` gives every node m knet links (``ring0_addr`` ... ``ring<m-1>_addr``),
each on a subnet and a switch bridge of its own: link L >= 1 of node i is the veth pair
``cst<K>n<i>l<L>``/``cst<K>s<i>l<L>`` at ``10.<213+L>.K.i/24`` on bridge ``br0l<L>`` (link 0
keeps the names above). The lease of K covers all of them (see :mod:`.network`).

Faults are applied on the switch side: :meth:`Cluster.partition` moves switch ports to one
bridge per group (and per link), :meth:`Cluster.isolate` takes a node's ports down on every
link, :meth:`Cluster.cut_link` takes one port of one link down while the node's other links
carry on, and :meth:`Cluster.heal` undoes all of them.

:meth:`Cluster.reconfigure` rewrites every node's ``corosync.conf`` and has corosync reload
it; :meth:`Cluster.add_node` adds a node to the running cluster that way.

``Cluster`` is assembled from one class per job: this module creates, starts, restarts and
closes clusters; :mod:`.waiting` waits for states, :mod:`.faults` breaks the network,
:mod:`.reconfig` changes the configuration, and :mod:`._base` holds the state they share.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import tempfile
import time
import warnings
import weakref
from collections.abc import Mapping
from types import TracebackType

from . import options
from ._base import KEEP_ENV, MAX_NODES
from ._resources import Resources, SubnetLease
from .faults import Faults
from .network import MAX_LINKS, Network
from .node import ClusterError, Node
from .options import QdeviceOptions, QuorumOptions
from .reconfig import Reconfiguration
from .status import QuorumStatus
from .waiting import POLL_INTERVAL, _state

__all__ = [
    "KEEP_ENV",
    "MAX_NODES",
    "POLL_INTERVAL",
    "Cluster",
    "ClusterError",
    "Node",
    "QdeviceOptions",
    "QuorumOptions",
    "QuorumStatus",
    "check_prerequisites",
]

_log = logging.getLogger(__name__)

# Programs the harness runs, with the Debian package that provides each.
_REQUIRED_PROGRAMS = {
    "ip": "iproute2",
    "corosync": "corosync",
    "corosync-quorumtool": "corosync",
    "unshare": "util-linux",
    "mount": "mount",
    "sh": "dash",
}

# Distinguishes the clusters of one process in their namespace names.
_counter = itertools.count(1)


def check_prerequisites() -> None:
    """Raise :class:`ClusterError` naming whatever is missing to run test clusters here."""
    problems: list[str] = []
    if os.geteuid() != 0:
        problems.append(
            f"root privileges (running as uid {os.geteuid()}; network namespaces, veth "
            "links and bind mounts need root)"
        )
    missing = [
        f"{prog} (Debian package {pkg})"
        for prog, pkg in _REQUIRED_PROGRAMS.items()
        if shutil.which(prog) is None
    ]
    if missing:
        problems.append("programs not found on PATH: " + ", ".join(missing))
    if not os.path.exists("/proc/thread-self/ns/net"):
        problems.append("/proc/thread-self/ns/net (Linux 3.17+ with /proc mounted)")
    if problems:
        raise ClusterError(
            "corosync.testing cannot start a cluster; missing: " + "; ".join(problems)
        )


class Cluster(Reconfiguration, Faults):
    """A real corosync cluster of ``nodes`` daemons on this machine, for tests.

    ``Cluster(3)`` creates the namespaces and links, starts the daemons and waits until
    every node is quorate with all N members (up to ``quorum_timeout`` seconds). Use it as
    a context manager or call :meth:`close`; everything is also cleaned up when the object
    is garbage collected and at interpreter exit. Requires root.

    ``token_ms`` is corosync's token timeout: roughly how long a crash or a partition takes
    to be noticed. With ``start=False`` nothing runs until :meth:`start`.

    ``links`` is the number of knet links (1 to 8) between the nodes: node i's address on
    link L is ``node.addresses[L]`` (``ring<L>_addr``), each link on a subnet, a bridge and
    a veth pair per node of its own, so that :meth:`cut_link` can break one link of one
    node while corosync keeps the node over the others. A one-node cluster gets link L's
    address ``127.0.0.<L+1>`` on ``lo``: corosync then runs with as many links, but there is
    no network to cut.

    Votequorum settings (votequorum(5)); by default every node has one vote and quorum is a
    plain majority:

    * ``votes``: votes of the nodes it names, e.g. ``{1: 3}`` (``nodelist.node.quorum_votes``;
      the other nodes keep 1);
    * ``quorum``: a :class:`QuorumOptions` (``two_node``, ``wait_for_all``,
      ``last_man_standing``, ``auto_tie_breaker``, ``allow_downscale``, ``expected_votes``...);
    * ``qdevice``: a :class:`QdeviceOptions`, so that a program can register a quorum device
      through the votequorum API and have its votes count.

    A bad value raises TypeError or ValueError here, before anything starts; so does a
    combination corosync would refuse or silently change (e.g. ``two_node`` on a cluster of
    other than 2 nodes, a qdevice with ``last_man_standing``).

    A running cluster's configuration changes with :meth:`reconfigure` (an edited
    ``corosync.conf`` on every node, reloaded) and :meth:`add_node` (node N+1, added by a
    reload and started).
    """

    def __init__(
        self,
        nodes: int = 3,
        *,
        token_ms: int = 1000,
        links: int = 1,
        start: bool = True,
        quorum_timeout: float = 30.0,
        votes: Mapping[int, int] | None = None,
        quorum: QuorumOptions | None = None,
        qdevice: QdeviceOptions | None = None,
    ) -> None:
        if isinstance(nodes, bool) or not isinstance(nodes, int):
            raise TypeError(f"nodes must be an int, got {type(nodes).__name__}")
        if not 1 <= nodes <= MAX_NODES:
            raise ValueError(f"nodes must be between 1 and {MAX_NODES}, got {nodes}")
        if token_ms <= 0:
            raise ValueError(f"token_ms must be positive, got {token_ms}")
        if isinstance(links, bool) or not isinstance(links, int):
            raise TypeError(f"links must be an int, got {type(links).__name__}")
        if not 1 <= links <= MAX_LINKS:
            raise ValueError(f"links must be between 1 and {MAX_LINKS} (knet's limit), got {links}")
        self._votes = options.check_settings(nodes, votes, quorum, qdevice)
        self._explicit_votes = dict(votes or {})
        check_prerequisites()
        #: corosync's token timeout in milliseconds (``totem.token``; :meth:`reconfigure`
        #: changes it).
        self.token_ms = token_ms
        #: Seconds :meth:`start` waits for the nodes to form the cluster (see :meth:`start`).
        self.quorum_timeout = quorum_timeout
        self._quorum = quorum or QuorumOptions()
        self._qdevice = qdevice
        self._edits = []
        self._generation = 0
        self._resources = Resources()
        self._closed = False
        self._started = False
        # The finalizer holds the resources, not the cluster, so the cluster can be
        # collected; finalize also runs at interpreter exit (atexit=True by default).
        self._finalizer = weakref.finalize(self, _finalize, self._resources)
        try:
            try:
                lease = SubnetLease.acquire()
            except OSError as e:
                raise ClusterError(f"cannot reserve a subnet for a test cluster: {e}") from e
            self._resources.lease = lease
            #: The per-cluster index K: subnet 10.213.K.0/24 (10.<213+L>.K.0/24 for link L),
            #: cluster name, veth names.
            self.index = lease.index
            #: ``totem.cluster_name``, unique among the clusters running on this machine.
            self.name = f"cst{self.index}"
            self._prefix = f"cst-{os.getpid()}-{next(_counter)}"
            #: Per-cluster directory: one ``n<i>`` subdirectory per node.
            self.tmpdir = tempfile.mkdtemp(prefix=f"corosync-testing-{self.index}-")
            self._resources.tmpdir = self.tmpdir
            self._resources.label = f"corosync test cluster {self.name}"
            self._resources.save()
            _log.debug(
                "%s: subnet 10.213.%d.0/24, %d link(s), temp dir %s",
                self.name,
                self.index,
                links,
                self.tmpdir,
            )
            switch = f"{self._prefix}-sw" if nodes > 1 else None
            self._network = Network(self.index, switch, self._resources, links)
            self._nodes = [self._make_node(i) for i in range(1, nodes + 1)]
            if start:
                self.start()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        try:
            return f"<corosync.testing.Cluster {self.name} of {len(self._nodes)} nodes>"
        except AttributeError:
            return "<corosync.testing.Cluster (not set up)>"

    def __enter__(self) -> Cluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- life cycle ------------------------------------------------------------------

    def start(self) -> None:
        """Create the network, start every daemon and wait until the cluster has formed.

        "Formed" means: every node serves clients and sees all N nodes as members, and is
        quorate, unless the votequorum settings keep the whole cluster inquorate (e.g.
        ``expected_votes`` above the nodes' votes, or a qdevice's votes needed and no device
        registered yet): then every node must be inquorate, and a test goes on from there
        (registering a device, ``set_expected``...). Where the settings leave it open,
        only the membership is awaited (see :meth:`expect_quorate`). With several
        ``links``, knet on every node also shows every link to every other node connected.

        On failure everything is cleaned up and :class:`ClusterError` says why, with the
        tail of every node's log.
        """
        self._check_open()
        if self._started:
            raise ClusterError(f"{self!r} was already started")
        self._started = True
        _log.info(
            "starting %s: %d corosync daemon(s), token %d ms",
            self.name,
            len(self._nodes),
            self.token_ms,
        )
        started = time.monotonic()
        try:
            self._network.build(self._nodes)
            self._write_configs(self._configs())
            for node in self._nodes:
                node._start()
            everyone = frozenset(range(1, len(self._nodes) + 1))
            quorate = options.expect_quorate(
                everyone, self._votes, self.quorum, self.qdevice, fresh=True
            )
            self.wait_for(
                lambda: (
                    self._all_formed(everyone, quorate, fail_on_death=True)
                    and self._links_connected(everyone)
                ),
                self.quorum_timeout,
                f"all {len(everyone)} nodes to be {_state(quorate)}members{self._and_links()}",
            )
            elapsed = time.monotonic() - started
            _log.info("%s: all nodes %smembers after %.1f s", self.name, _state(quorate), elapsed)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the daemons (SIGTERM, then SIGKILL), delete namespaces, links, temp dir and
        /dev/shm files, release the subnet. Idempotent; warns instead of raising."""
        self._closed = True
        self._finalizer()

    # --- crashes and restarts ---------------------------------------------------------

    def kill(self, nodeid: int) -> None:
        """SIGKILL node ``nodeid``'s daemon and wait for it to exit (a crash, not a shutdown)."""
        self._check_open()
        node = self.node(nodeid)
        if node.alive:  # else _kill() raises, and there was nothing to kill
            _log.info("%s: killing node %d (SIGKILL, pid %s)", self.name, nodeid, node.pid)
        node._kill()

    def restart(self, nodeid: int, *, wait: bool = True, timeout: float = 30.0) -> None:
        """Start node ``nodeid``'s daemon again with its ``corosync.conf`` as last written
        (SIGKILLing it first if it runs), and wait until it is back.

        "Back" means: the node serves clients (``node.connect(...)`` works at once) and the
        nodes it can reach (alive, and on its side of any :meth:`partition` or
        :meth:`isolate`) all see exactly each other as members; they are quorate when they
        hold more than half of the votes (with the default settings: more than half of the
        nodes), and inquorate otherwise. Where the quorum settings make that depend on
        history (see :meth:`expect_quorate`) only the membership is awaited. With several
        ``links``, the links between those nodes that :meth:`cut_link` did not cut are
        connected as well. Raises :class:`ClusterError` if that does not happen within
        ``timeout`` seconds or the daemon exits.

        With ``wait=False`` it returns as soon as the daemon process is started, before
        corosync accepts clients; follow with :meth:`wait_members` or :meth:`wait_quorate`.
        """
        self._check_open()
        node = self.node(nodeid)
        _log.info("%s: restarting node %d", self.name, nodeid)
        if node.alive:
            node._kill()
        node._start()
        if wait:
            self._wait_back(node, timeout)
            _log.info("%s: node %d is back", self.name, nodeid)

    def reset(self, timeout: float = 60.0) -> None:
        """Undo all faults: heal the network, restart dead daemons, and wait until every node
        is a member of the full cluster, quorate and with every link connected as
        :meth:`start` says. For reusing one cluster across fault tests."""
        self._check_open()
        if not self._started:
            raise ClusterError(f"{self!r} was not started")
        _log.info("%s: resetting (heal, restart dead daemons, wait for quorum)", self.name)
        self.heal()
        for node in self._nodes:
            if not node.alive:
                node._start()
        everyone = frozenset(range(1, len(self._nodes) + 1))
        quorate = options.expect_quorate(everyone, self._votes, self.quorum, self.qdevice)
        self.wait_for(
            lambda: self._all_formed(everyone, quorate) and self._links_connected(everyone),
            timeout,
            f"all {len(everyone)} nodes to be {_state(quorate)}members again{self._and_links()}",
        )


def _finalize(resources: Resources) -> None:
    # Runs from close(), from garbage collection or at interpreter exit: it must not raise.
    try:
        _log.debug("cleaning up %s", resources.label)
        keep = os.environ.get(KEEP_ENV) == "1"
        errors = resources.release(keep_tmpdir=keep)
        _log.info("%s: cleaned up%s", resources.label, " with errors" if errors else "")
        if errors:
            warnings.warn(
                f"cleaning up {resources.label} failed: " + "; ".join(errors),
                RuntimeWarning,
                stacklevel=2,
            )
        if keep and resources.tmpdir is not None:
            warnings.warn(
                f"{KEEP_ENV}=1: kept {resources.tmpdir} of {resources.label}",
                RuntimeWarning,
                stacklevel=2,
            )
    except Exception:  # a finalizer has nowhere to raise to
        pass
