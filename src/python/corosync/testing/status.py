"""A node's view of quorum, as ``corosync-quorumtool -s -p`` prints it: :class:`QuorumStatus`
and, when a quorum device is registered, :class:`QdeviceStatus`.

The tool's output is the reference a test compares the Python binding with: its fields carry
the names corosync-quorumtool(8) gives them, and each says which ``votequorum_info`` field
the tool printed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["QdeviceStatus", "QuorumStatus"]

# The qdevice row: nodeid 0, the votes it casts here, its name; when it casts none here the
# votes shown are 0 and "(votes N)" follows the name.
_QDEVICE_ROW = re.compile(r"0\s+(\d+)\s+(.*?)(?:\s+\(votes (\d+)\))?")


@dataclass(frozen=True)
class QdeviceStatus:
    """The quorum device as a node reports it: the ``Qdevice`` row of the membership table
    and this node's ``Qdevice`` column (``A,V,NMW``: alive, casts its vote, no master wins)."""

    #: The name it registered with (``votequorum_qdevice_register``).
    name: str
    #: Its votes (``qdevice_votes``), whether it casts them or not.
    votes: int
    #: Whether a device is registered on this node (the column is not ``NR``).
    registered: bool
    #: Whether it polled within its timeout (``A``, else ``NA``).
    alive: bool
    #: Whether its votes count on this node now (``V``, else ``NV``).
    cast_vote: bool
    #: Whether it set master_wins (``MW``, else ``NMW``).
    master_wins: bool


@dataclass(frozen=True)
class QuorumStatus:
    """A node's view of quorum and membership, as printed by ``corosync-quorumtool -s``.

    ``flags`` holds the words of the tool's ``Flags:`` line: ``Quorate``, ``2Node``,
    ``WaitForAll``, ``LastManStanding``, ``AutoTieBreaker``, ``AllowDownscale`` and
    ``Qdevice`` (a device is registered on this node); the properties of the same names
    read them.
    """

    #: The node's own id (``Node ID``).
    nodeid: int
    quorate: bool
    #: Node ids in the node's current membership.
    members: frozenset[int]
    #: This node's expected votes (``Expected votes``, ``node_expected_votes``).
    expected_votes: int
    #: Votes of the members, plus the device's when it casts them here (``Total votes``).
    total_votes: int
    #: The ring id as (representative node id, sequence number) (``Ring ID``, hex ``1.c``).
    ring_id: tuple[int, int] = (0, 0)
    #: The highest expected votes of the members (``Highest expected``).
    highest_expected: int = 0
    #: Votes needed to be quorate (``Quorum``).
    quorum: int = 0
    #: The ``Flags:`` words.
    flags: frozenset[str] = frozenset()
    #: Votes of each member (the membership table's ``Votes`` column).
    votes: Mapping[int, int] = field(default_factory=dict, hash=False)
    #: The quorum device, or None when no member has one registered.
    qdevice: QdeviceStatus | None = None

    @property
    def two_node(self) -> bool:
        """``2Node``: two_node is in effect."""
        return "2Node" in self.flags

    @property
    def wait_for_all(self) -> bool:
        """``WaitForAll``: wait_for_all is configured (whether or not it still waits)."""
        return "WaitForAll" in self.flags

    @property
    def last_man_standing(self) -> bool:
        """``LastManStanding``: last_man_standing is configured."""
        return "LastManStanding" in self.flags

    @property
    def auto_tie_breaker(self) -> bool:
        """``AutoTieBreaker``: auto_tie_breaker is in effect."""
        return "AutoTieBreaker" in self.flags

    @property
    def allow_downscale(self) -> bool:
        """``AllowDownscale``: allow_downscale is configured."""
        return "AllowDownscale" in self.flags

    @property
    def qdevice_registered(self) -> bool:
        """``Qdevice``: a quorum device is registered on this node."""
        return "Qdevice" in self.flags

    @classmethod
    def parse(cls, text: str) -> QuorumStatus:
        """Parse the output of ``corosync-quorumtool -s -p``; raise ValueError if malformed."""
        fields: dict[str, str] = {}
        votes: dict[int, int] = {}
        columns: list[str] | None = None
        local_column = ""
        device_row: re.Match[str] | None = None
        for line in text.splitlines():
            stripped = line.strip()
            if columns is None:
                if stripped.startswith("Nodeid"):
                    columns = stripped.split()[:-1]  # the last heading, Name, has spaces
                elif ":" in stripped:
                    key, _, value = stripped.partition(":")
                    fields[key.strip()] = value.strip()
                continue
            row = stripped.split()
            if not row or not row[0].isdigit():
                continue  # e.g. "Unable to get node 2 info"
            if row[0] == "0":  # corosync's VOTEQUORUM_QDEVICE_NODEID
                device_row = _QDEVICE_ROW.fullmatch(stripped)
                continue
            nodeid = int(row[0])
            cells = dict(zip(columns, row, strict=False))
            votes[nodeid] = int(cells.get("Votes", "0"))
            if stripped.endswith("(local)"):
                local_column = cells.get("Qdevice", "")
        try:
            nodeid = int(fields["Node ID"], 0)
            return cls(
                nodeid=nodeid,
                quorate=fields["Quorate"] == "Yes",
                members=frozenset(votes),
                expected_votes=int(fields.get("Expected votes", "0")),
                total_votes=int(fields.get("Total votes", "0")),
                ring_id=_ring_id(fields.get("Ring ID", "0")),
                highest_expected=int(fields.get("Highest expected", "0")),
                quorum=int((fields.get("Quorum") or "0").split()[0]),
                flags=frozenset(fields.get("Flags", "").split()),
                votes=votes,
                qdevice=None if device_row is None else _qdevice(device_row, local_column),
            )
        except (KeyError, ValueError) as e:
            raise ValueError(f"unexpected corosync-quorumtool output: {text!r}") from e


def _ring_id(text: str) -> tuple[int, int]:
    # CS_PRI_RING_ID: "%x.%lx"; without votequorum only the sequence number.
    node, dot, seq = text.rpartition(".")
    return (int(node, 16) if dot else 0, int(seq, 16))


def _qdevice(row: re.Match[str], column: str) -> QdeviceStatus:
    shown, name, uncast = row.groups()
    states = set(column.split(","))
    return QdeviceStatus(
        name=name,
        votes=int(shown if uncast is None else uncast),
        registered=column not in ("", "NR"),
        alive="A" in states,
        cast_vote="V" in states,
        master_wins="MW" in states,
    )
