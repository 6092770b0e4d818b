"""The configuration of a test cluster, and changing it while the cluster runs:
:class:`Reconfiguration`, the part of :class:`~corosync.testing.Cluster` that writes every
node's ``corosync.conf`` and has corosync reload it.

The harness keeps a model of the configuration (the nodes and their addresses, votes, quorum
options, ``token_ms``) and renders each node's file from it through the ``corosync.conf``
model (:func:`.config.render`: :class:`corosync.config.Config`, every node put in with
``Config.add_node``, the one :meth:`Reconfiguration.add_node` adds too), then applies the
edits given to :meth:`Reconfiguration.reconfigure`, in order, and numbers the result
(:func:`.config.with_generation`). A reload is
``corosync_cfg_reload_config`` (the binding's :meth:`corosync.CFG.reload_config`) called on
one node: corosync sends it through totem, and every node of that node's membership
rereads its own file (exec/cfg.c, ``message_handler_req_exec_cfg_reload_config``). Which
keys a reload may change is corosync's business; as read in corosync 3.1.7:

* changed at run time: the nodelist (knet links to added or removed nodes), the totem
  timeouts and counters (``token``, ``consensus``, ``join``, ``merge``, ``token_retransmits_
  before_loss_const``, ``knet_pmtud_interval``, ... : ``totem_volatile_config_read``), the
  knet options of an interface, ``logging``, and in ``quorum``: ``expected_votes``,
  ``two_node``, the nodes' ``quorum_votes`` and the ``device`` section;
* kept as they were, with "Modified entry '...' in corosync.conf cannot be changed at
  run-time" in the log (``remove_ro_entries``): ``totem.version``, ``cluster_name``,
  ``transport``, ``ip_version``, ``netmtu``, ``threads``, ``quorum.provider``, the
  ``system`` keys such as ``state_dir`` (and crypto, where knet cannot reconfigure it);
* read at startup only by votequorum: ``wait_for_all``, ``last_man_standing``,
  ``auto_tie_breaker``, ``allow_downscale``, ``expected_votes_tracking``.

A file corosync cannot use (a syntax error, an invalid value) makes ``reload_config`` fail
on every node alike, and nothing changes. Each reload rebuilds the log filters, and libqb's
log thread checks them when it writes a line: on a busy machine a line logged just before
(even "Config reload requested by node N") can be missing from the log.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping

import corosync

from . import config, options
from ._base import MAX_NODES
from .node import ClusterError, Node, _stopped
from .waiting import Waits

__all__ = ["Reconfiguration"]

_log = logging.getLogger(__name__)


class Reconfiguration(Waits):
    """Rendering and reloading the nodes' ``corosync.conf`` (a part of :class:`Cluster`)."""

    def reconfigure(
        self,
        edit: Callable[[str], str] | None = None,
        *,
        token_ms: int | None = None,
        via: int | None = None,
        timeout: float = 30.0,
    ) -> None:
        """Change the configuration of the running cluster: rewrite every node's
        ``corosync.conf`` and have corosync reload it, as ``corosync-cfgtool -R`` does.

        ``token_ms`` sets ``totem.token`` (and :attr:`token_ms`). ``edit`` is a function
        from the text of a node's ``corosync.conf``, as the harness renders it, to the text
        to write instead; it is called once per node (the texts differ only in the log file
        and state directory). Edits are kept: every later rewrite (another
        ``reconfigure()``, :meth:`add_node`) applies all of them again, in order. Without
        either argument the files are rewritten unchanged and reloaded.

        Every node's file is rewritten, running or not (a node started later reads the new
        one). The reload is asked of node ``via`` (by default the lowest-numbered running
        node) through :meth:`corosync.CFG.reload_config`; corosync passes it to the nodes of
        that node's membership, each of which rereads its own file. This returns once
        every one of them that still runs shows the new file in CMAP (within ``timeout``
        seconds, else :class:`ClusterError`). Nodes cut off from ``via`` by a fault do not
        reload; they read the new file when restarted.

        What corosync may change at run time, and what it keeps, is listed in
        :mod:`corosync.testing.reconfig`; the harness's own expectations (:meth:`expect_quorate`,
        what :meth:`restart` and :meth:`reset` wait for) know nothing of what an edit
        changes. If corosync refuses the new file, the old files are written back and
        :class:`ClusterError` says why (the reason is in the log of node ``via``, which the
        message shows); nothing has changed then, and the edit is not kept. corosync
        answers for node ``via`` only: another node that cannot use its file makes the
        wait time out instead.
        """
        self._require_started("reconfigure()")
        if edit is not None and not callable(edit):
            raise TypeError(f"edit must be a function from str to str, got {edit!r}")
        if token_ms is not None:
            if isinstance(token_ms, bool) or not isinstance(token_ms, int):
                raise TypeError(f"token_ms must be an int, got {type(token_ms).__name__}")
            if token_ms <= 0:
                raise ValueError(f"token_ms must be positive, got {token_ms}")
        caller = self._reloader(via)
        token = self.token_ms if token_ms is None else token_ms
        edits = self._edits if edit is None else [*self._edits, edit]
        texts = self._configs(token_ms=token, edits=edits, generation=self._generation + 1)
        _log.info("%s: reloading the configuration through node %d", self.name, caller.nodeid)
        reloading = self._reload(caller, texts)
        self.token_ms, self._edits = token, edits
        self._wait_reloaded(reloading, timeout)

    def add_node(
        self,
        *,
        votes: int | None = None,
        start: bool = True,
        via: int | None = None,
        timeout: float = 60.0,
    ) -> Node:
        """Add node N+1 to the running cluster and return it; with ``start`` (the default),
        start it and wait until it has joined.

        The new node gets the next node id and address on every link, a namespace and a
        veth pair per link to the switch, like the others; ``votes`` gives it
        ``quorum_votes`` (1 otherwise). Every node's ``corosync.conf`` gets the new
        nodelist and corosync reloads it as :meth:`reconfigure` does: the running nodes
        add the new node (knet links to it) and votequorum counts its votes among the
        expected votes, so quorum rises with them (e.g. 3 nodes: expected votes 3, quorum
        2; with a fourth: 4 and 3). Then the new daemon starts, and this waits until the
        new node serves clients and every running node sees all of them as members,
        quorate as :meth:`expect_quorate` says, with every link connected, within
        ``timeout`` seconds in all. With ``start=False`` it returns after the reload, the
        node configured but not running; :meth:`restart` starts it (so does :meth:`reset`).

        The new node is cleaned up by :meth:`close` like the others, whatever happens. It
        needs a started cluster of at least 2 nodes (a one-node cluster runs on ``lo``,
        with no network to join) and a healed network (no partition, isolation or cut
        link). Votes or quorum settings that do not fit N+1 nodes (e.g. ``two_node``)
        raise ValueError before anything changes. A reload that corosync refuses raises
        :class:`ClusterError` and undoes the addition; a failure after the reload (the new
        node's network, its daemon, the wait) raises :class:`ClusterError` and leaves the
        node in the cluster, configured on every node.
        """
        self._require_started("add_node()")
        if self._network.switch is None:
            raise ClusterError(
                "add_node() needs a cluster of at least 2 nodes: a one-node cluster runs on"
                " lo, with no network to join"
            )
        faults = self._network.describe()
        if faults:
            raise ClusterError(f"add_node() needs a healed network: {'; '.join(faults)}")
        nodeid = len(self._nodes) + 1
        if nodeid > MAX_NODES:
            raise ClusterError(f"a test cluster has at most {MAX_NODES} nodes")
        explicit = dict(self._explicit_votes)
        if votes is not None:
            explicit[nodeid] = votes
        resolved = options.check_settings(nodeid, explicit, self._quorum, self._qdevice)
        caller = self._reloader(via)
        deadline = time.monotonic() + timeout
        node = self._make_node(nodeid)
        before = (self._votes, self._explicit_votes)
        self._nodes.append(node)
        self._votes, self._explicit_votes = resolved, explicit
        _log.info("%s: adding node %d, reloading through node %d", self.name, nodeid, caller.nodeid)
        try:
            reloading = self._reload(caller, self._configs(generation=self._generation + 1))
        except BaseException:
            self._nodes.remove(node)
            self._votes, self._explicit_votes = before
            shutil.rmtree(node.workdir, ignore_errors=True)
            raise
        self._wait_reloaded(reloading, _left(deadline))
        self._network.attach(node)
        if start:
            node._start()
            self._wait_back(node, _left(deadline))
            _log.info("%s: node %d joined", self.name, nodeid)
        return node

    # --- rendering and reloading ------------------------------------------------------

    def _configs(
        self,
        *,
        token_ms: int | None = None,
        edits: Iterable[Callable[[str], str]] | None = None,
        generation: int | None = None,
    ) -> dict[Node, str]:
        """Every node's ``corosync.conf`` text from the model, with ``token_ms``, ``edits``
        and ``generation`` in place of the cluster's own (nothing is written)."""
        entries = [
            config.NodeEntry(n.nodeid, n.address, f"node{n.nodeid}", tuple(n.addresses[1:]))
            for n in self._nodes
        ]
        edits = list(self._edits if edits is None else edits)
        generation = self._generation if generation is None else generation
        texts: dict[Node, str] = {}
        for node in self._nodes:
            text = config.render(
                cluster_name=self.name,
                nodes=entries,
                log_path=node.log_path,
                state_dir=node.state_dir,
                token_ms=self.token_ms if token_ms is None else token_ms,
                votes=self._explicit_votes,
                quorum=self.quorum,
                qdevice=self.qdevice,
            )
            for edit in edits:
                text = edit(text)
                if not isinstance(text, str):
                    raise TypeError(f"edit {edit!r} returned {type(text).__name__}, not str")
            if generation:
                # Last, so that no edit can drop it: reconfigure() waits for it.
                text = config.with_generation(text, generation)
            texts[node] = text
        return texts

    def _write_configs(self, texts: Mapping[Node, str | None]) -> None:
        """Write each node's file (None: remove it, for a node that had none)."""
        for node, text in texts.items():
            if text is not None:
                node._write_config(text)
            elif os.path.exists(node.conf_path):
                os.remove(node.conf_path)

    def _reloader(self, via: int | None) -> Node:
        """The node to ask for a reload: ``via``, or the lowest-numbered running one."""
        if via is not None:
            node = self.node(via)
            if not node.alive:
                raise ClusterError(f"node {via} is not running: it cannot reload the config")
            return node
        for node in self._nodes:
            if node.alive:
                return node
        raise ClusterError("no node is running to reload the config")

    def _reload(self, caller: Node, texts: Mapping[Node, str]) -> frozenset[Node]:
        """Write ``texts`` and reload them through ``caller``; return the nodes that reload
        (``caller``'s membership). When corosync refuses, write the old files back and
        raise :class:`ClusterError`."""
        members = caller.members()
        if members is None:
            raise ClusterError(
                f"node {caller.nodeid} does not answer: it cannot reload the config\n"
                f"{self.describe()}"
            )
        old = {node: _read(node.conf_path) for node in texts}
        self._write_configs(texts)
        try:
            with caller.connect(corosync.CFG) as cfg:
                cfg.reload_config()
        except corosync.CorosyncError as e:
            self._write_configs(old)
            raise ClusterError(
                f"corosync refused to reload the config through node {caller.nodeid} ({e});"
                f" the old files are back in place\n{self.describe()}"
            ) from e
        self._generation += 1
        return frozenset(n for n in self._nodes if n.nodeid in members)

    def _wait_reloaded(self, nodes: Iterable[Node], timeout: float) -> None:
        """Wait until each of ``nodes`` that runs shows the current generation in CMAP."""
        nodes = sorted(nodes, key=lambda n: n.nodeid)
        generation = str(self._generation)

        def reloaded() -> bool:
            return all(
                not n.alive or _cmap_string(n, config.GENERATION_KEY) == generation for n in nodes
            )

        self.wait_for(
            reloaded,
            timeout,
            f"nodes {[n.nodeid for n in nodes]} to reload corosync.conf"
            f" ({config.GENERATION_KEY} = {generation})",
        )
        _log.info("%s: configuration %s reloaded", self.name, generation)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _cmap_string(node: Node, key: str) -> str | None:
    """``key`` in node's CMAP, through a handle that lives for this call; None when the key
    or the daemon's answer is missing (a stopped daemon would hold the connect)."""
    proc = node._proc
    if proc is None or not node.alive or _stopped(proc.pid):
        return None
    try:
        with node.connect(corosync.CMAP, retry_timeout=0) as cmap:
            value = cmap[key]
    except (corosync.CorosyncError, KeyError):
        return None
    return value if isinstance(value, str) else None


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())
