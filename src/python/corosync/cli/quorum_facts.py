"""What ``corosync-quorumtool -s`` shows, read through the Quorum, Votequorum, CMAP and CFG
handles: :class:`QuorumReader` and the :class:`QuorumFacts` it reads."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from corosync import CFG, CMAP, DispatchFlags, NotExistError, RingId, TrackFlags
from corosync.cli.nodelist import node_name, read_nodelist
from corosync.cli.stream import Dispatchable
from corosync.quorum import Quorum, QuorumType
from corosync.votequorum import InfoFlag, NodeInfo, NodeStatus, Votequorum

__all__ = ["FLAG_WORDS", "DeviceState", "Member", "Qdevice", "QuorumFacts", "QuorumReader", "Votes"]

VOTEQUORUM = "corosync_votequorum"

#: corosync-quorumtool's words for the Flags line, in its order.
FLAG_WORDS = (
    (InfoFlag.TWO_NODE, "2Node"),
    (InfoFlag.QUORATE, "Quorate"),
    (InfoFlag.WAIT_FOR_ALL, "WaitForAll"),
    (InfoFlag.LAST_MAN_STANDING, "LastManStanding"),
    (InfoFlag.AUTO_TIE_BREAKER, "AutoTieBreaker"),
    (InfoFlag.ALLOW_DOWNSCALE, "AllowDownscale"),
    (InfoFlag.QDEVICE_REGISTERED, "Qdevice"),
)


@dataclass(frozen=True, slots=True)
class Votes:
    """The local node's votequorum numbers."""

    expected: int
    highest_expected: int
    total: int
    quorum: int


@dataclass(frozen=True, slots=True)
class DeviceState:
    """A node's quorum device flags (the Qdevice column: NR, or A/NA,V/NV,MW/NMW)."""

    registered: bool
    alive: bool
    cast_vote: bool
    master_wins: bool

    @classmethod
    def of(cls, flags: InfoFlag) -> DeviceState:
        return cls(
            InfoFlag.QDEVICE_REGISTERED in flags,
            InfoFlag.QDEVICE_ALIVE in flags,
            InfoFlag.QDEVICE_CAST_VOTE in flags,
            InfoFlag.QDEVICE_MASTER_WINS in flags,
        )


@dataclass(frozen=True, slots=True)
class Member:
    """A member of this node's membership; votes and qdevice are None without votequorum."""

    node_id: int
    votes: int | None
    name: str
    local: bool
    qdevice: DeviceState | None


@dataclass(frozen=True, slots=True)
class Qdevice:
    """The quorum device as this node sees it."""

    name: str
    votes: int
    state: DeviceState


@dataclass(frozen=True, slots=True)
class QuorumFacts:
    """One node's view of quorum: the fields of ``corosync-quorumtool -s``."""

    node_id: int
    ring_id: RingId
    quorate: bool
    #: ``quorum.provider``; None when quorum is not configured.
    provider: str | None
    votes: Votes | None
    flags: tuple[str, ...]
    members: tuple[Member, ...]
    qdevice: Qdevice | None


class QuorumReader:
    """Quorum and (when it is the provider) Votequorum handles beside the caller's CMAP and
    CFG. :meth:`current` reads the quorum once; after :meth:`track`, their callbacks set
    :attr:`changed` and :meth:`facts` reads the state the last notification left."""

    def __init__(self, cmap: CMAP, cfg: CFG) -> None:
        self.cmap, self.cfg = cmap, cfg
        self.changed = False
        self.ring_id: RingId | None = None
        self.members: list[int] = []
        self.quorum = Quorum(on_notify=self._on_quorum)
        self.votequorum: Votequorum | None = None
        try:
            self.provider = self._provider()
            if self.provider == VOTEQUORUM:
                self.votequorum = Votequorum(
                    on_notify=self._on_votequorum, on_expectedvotes=self._on_expected
                )
        except BaseException:
            self.close()
            raise

    def _provider(self) -> str | None:
        if self.quorum.quorum_type == QuorumType.FREE:
            return None
        try:
            provider = self.cmap.get("quorum.provider").value
        except NotExistError:
            return None
        return provider if isinstance(provider, str) else None

    @property
    def handles(self) -> list[Dispatchable]:
        """The handles whose callbacks :meth:`track` turned on."""
        return [self.quorum] if self.votequorum is None else [self.quorum, self.votequorum]

    def _on_quorum(self, quorate: bool, ring_id: RingId, members: list[int]) -> None:
        self.ring_id, self.members, self.changed = ring_id, members, True

    def _on_votequorum(self, quorate: bool, ring_id: RingId, nodes: list[NodeStatus]) -> None:
        self.changed = True

    def _on_expected(self, expected_votes: int) -> None:
        self.changed = True

    def current(self) -> QuorumFacts:
        """The quorum now (as corosync-quorumtool -s reads it: the current membership from
        a CURRENT notification)."""
        self.ring_id = None
        self.quorum.trackstart(TrackFlags.CURRENT)
        while self.ring_id is None:
            self.quorum.dispatch(DispatchFlags.ONE)
        self.quorum.trackstop()
        return self.facts()

    def track(self) -> None:
        """Have every change (and the state now) notified: quorum, votes, expected votes."""
        self.quorum.trackstart(TrackFlags.CHANGES)
        if self.votequorum is not None:
            self.votequorum.trackstart(TrackFlags.CHANGES)

    def facts(self) -> QuorumFacts:
        """The quorum as of the last quorum notification (which must have come)."""
        assert self.ring_id is not None, "no quorum notification yet"
        node_id = self.cfg.local_nodeid
        quorate = self.quorum.quorate
        names = read_nodelist(self.cmap)
        vq = self.votequorum
        infos = {} if vq is None else _infos(vq, [node_id, *self.members])
        members = tuple(
            Member(
                node_id=nodeid,
                votes=infos[nodeid].votes if nodeid in infos else None,
                name=node_name(names, self.cfg, nodeid),
                local=nodeid == node_id,
                qdevice=DeviceState.of(infos[nodeid].flags) if nodeid in infos else None,
            )
            for nodeid in self.members
        )
        local = infos.get(node_id)
        return QuorumFacts(
            node_id=node_id,
            ring_id=self.ring_id,
            quorate=quorate,
            provider=self.provider,
            votes=None if local is None else _votes(local),
            flags=() if local is None else tuple(w for f, w in FLAG_WORDS if f in local.flags),
            members=members,
            qdevice=_qdevice(local, members),
        )

    def close(self) -> None:
        self.quorum.close()
        if self.votequorum is not None:
            self.votequorum.close()

    def __enter__(self) -> QuorumReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _infos(votequorum: Votequorum, nodeids: list[int]) -> dict[int, NodeInfo]:
    infos = {}
    for nodeid in nodeids:
        try:
            infos[nodeid] = votequorum.info(nodeid)
        except NotExistError:
            pass  # votequorum does not know the node (yet); corosync-quorumtool says so too
    return infos


def _votes(info: NodeInfo) -> Votes:
    return Votes(info.expected_votes, info.highest_expected, info.total_votes, info.quorum)


def _qdevice(local: NodeInfo | None, members: tuple[Member, ...]) -> Qdevice | None:
    # corosync-quorumtool shows the device row when any member has one registered.
    if local is None or not any(m.qdevice and m.qdevice.registered for m in members):
        return None
    return Qdevice(local.qdevice_name, local.qdevice_votes, DeviceState.of(local.flags))
