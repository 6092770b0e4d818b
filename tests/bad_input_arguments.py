"""test_bad_input.py's cases of wrong arguments, one table per service (test helpers): wrong
types, ints out of range (negative, 2**32, 2**64 and beyond), sizes counted in UTF-8 bytes,
strings that are no UTF-8 or hold a NUL where corosync stores C strings. Each must raise its
documented exception before anything reaches corosync."""

from __future__ import annotations

import math

from bad_input import SURROGATE, big, case

import corosync
from corosync import RingId
from corosync.cmap import ValueType

CPG_ARGUMENTS = [
    case(
        "cpg-join-bytearray",
        lambda h: h.cpg.join(bytearray(b"g")),
        TypeError,
        r"^cpg_join\(\): group must be str or bytes, not bytearray$",
    ),
    case(
        "cpg-join-130-utf8-bytes",
        lambda h: h.cpg.join("é" * 65),
        corosync.NameTooLongError,
        "group name is 130 bytes; corosync allows at most 128",
    ),
    case(
        "cpg-membership-surrogate",
        lambda h: h.cpg.membership(SURROGATE),
        UnicodeEncodeError,
        "surrogates not allowed in group$",
    ),
    case(
        "cpg-membership-129",
        lambda h: h.cpg.membership("m" * 129),
        corosync.NameTooLongError,
        "^cpg_membership_get failed: group name is 129 bytes",
    ),
    case(
        "cpg-groups-group-int",
        lambda h: h.cpg.groups(group=3),
        TypeError,
        "group must be str or bytes, not int",
    ),
    case(
        "cpg-groups-group-129",
        lambda h: h.cpg.groups(group="x" * 129),
        corosync.NameTooLongError,
        "at most 128",
    ),
    case(
        "cpg-groups-group-surrogate",
        lambda h: h.cpg.groups(group=SURROGATE),
        UnicodeEncodeError,
        "surrogates not allowed in group$",
    ),
    case(
        "cpg-leave-surrogate",
        lambda h: h.cpg.leave(SURROGATE),
        UnicodeEncodeError,
        "surrogates not allowed in group$",
    ),
    case(
        "cpg-mcast-group-int",
        lambda h: h.cpg.mcast(b"x", group=3),
        TypeError,
        "group must be str or bytes, not int",
    ),
    case(
        "cpg-mcast-group-129",
        lambda h: h.cpg.mcast(b"x", group="x" * 129),
        corosync.NameTooLongError,
        "at most 128",
    ),
    case(
        "cpg-mcast-retry_timeout-negative",
        lambda h: h.cpg.mcast(b"x", retry_timeout=-1),
        ValueError,
        "^retry_timeout must be a finite number of seconds >= 0$",
    ),
    case(
        "cpg-mcast-retry_timeout-nan",
        lambda h: h.cpg.mcast(b"x", retry_timeout=math.nan),
        ValueError,
        "retry_timeout",
    ),
    case(
        "cpg-mcast-guarantee-2**64",
        lambda h: h.cpg.mcast(b"x", guarantee=2**64),
        ValueError,
        r"^guarantee must be a Guarantee \(0 to 3\), not 18446744073709551616$",
    ),
    case(
        "cpg-mcast_many-int",
        lambda h: h.cpg.mcast_many(5),
        TypeError,
        "^mcast_many\\(\\) argument 'messages' must be an iterable, not int$",
    ),
    case(
        "cpg-mcast_many-none",
        lambda h: h.cpg.mcast_many(None),
        TypeError,
        "^mcast_many\\(\\) argument 'messages' must be an iterable, not NoneType$",
    ),
    case(
        "cpg-mcast_many-guarantee-9",
        lambda h: h.cpg.mcast_many([b"x"], guarantee=9),
        ValueError,
        r"Guarantee \(0 to 3\), not 9",
    ),
    case(
        "cpg-mcast_many-4-gib-item",
        lambda h: h.cpg.mcast_many([big(2**32)]),
        corosync.TooBigError,
        "at most 4 GiB - 1",
    ),
    case(
        "cpg-dispatch-2**64",
        lambda h: h.cpg.dispatch(2**64),
        ValueError,
        r"^flags must be a DispatchFlags \(1 to 4\), not 18446744073709551616$",
    ),
    case(
        "cpg-dispatch-negative",
        lambda h: h.cpg.dispatch(-1),
        ValueError,
        r"DispatchFlags \(1 to 4\), not -1$",
    ),
    case(
        "cpg-window-messages-2**64",
        lambda h: h.open(corosync.CPG, send_window_messages=2**64),
        OverflowError,
        "^send_window_messages must be 1 to 18446744073709551615, not 18446744073709551616$",
    ),
    case(
        "cpg-window-bytes-2**64",
        lambda h: h.open(corosync.CPG, send_window_bytes=2**64),
        OverflowError,
        "send_window_bytes",
    ),
    case(
        "cpg-deliver_initial_totem_conf-str",
        lambda h: h.open(corosync.CPG, deliver_initial_totem_conf="yes"),
        TypeError,
        "^CPG\\(\\) argument 'deliver_initial_totem_conf' must be bool, not str$",
    ),
    case(
        "cpg-positional-argument",
        lambda h: h.open(corosync.CPG, print),
        TypeError,
        "^CPG\\(\\) takes 0 positional arguments but 1 were given$",
    ),
    case(
        "cpg-on_totem_confchg-str",
        lambda h: setattr(h.cpg, "on_totem_confchg", "f"),
        TypeError,
        "^on_totem_confchg must be callable or None, not str$",
    ),
]

CMAP_ARGUMENTS = [
    case(
        "cmap-get-surrogate",
        lambda h: h.cmap.get(SURROGATE),
        UnicodeEncodeError,
        "surrogates not allowed in key$",
    ),
    case(
        "cmap-set-string-surrogate",
        lambda h: h.cmap.set(h.prefix + "s", SURROGATE, ValueType.STRING),
        UnicodeEncodeError,
        "surrogates not allowed in value$",
    ),
    case(
        "cmap-set-string-16386-utf8-bytes",
        lambda h: h.cmap.set(h.prefix + "s", "é" * 8193),
        corosync.TooBigError,
        "16386",
    ),
    case(
        "cmap-set-type-str",
        lambda h: h.cmap.set(h.prefix + "k", 1, "UINT8"),
        TypeError,
        "^type must be ValueType or an int, not str$",
    ),
    case(
        "cmap-set-type-2**64",
        lambda h: h.cmap.set(h.prefix + "k", 1, 2**64),
        ValueError,
        r"^type must be a ValueType \(1 to 12\), not 18446744073709551616$",
    ),
    case(
        "cmap-keys-surrogate",
        lambda h: list(h.cmap.keys(SURROGATE)),
        UnicodeEncodeError,
        "surrogates not allowed in prefix$",
    ),
    case(
        "cmap-keys-nul",
        lambda h: list(h.cmap.keys("a\0")),
        corosync.InvalidParamError,
        r"prefix 'a\\x00' has a character corosync does not allow in key names \(byte 0\)",
    ),
    case(
        "cmap-inc-2-bytes",
        lambda h: h.cmap.inc("ab"),
        corosync.InvalidParamError,
        "^cmap_inc failed: key 'ab' is 2 bytes; corosync needs at least 3",
    ),
    case(
        "cmap-delitem-256-bytes",
        lambda h: h.cmap.__delitem__("k" * 256),
        corosync.NameTooLongError,
        "is 256 bytes; corosync allows at most 255",
    ),
    case(
        "cmap-track-callback-none",
        lambda h: h.cmap.track(h.prefix, None),
        TypeError,
        "^track\\(\\) argument 'callback' must be callable, not NoneType$",
    ),
    case(
        "cmap-track-events-0",
        lambda h: h.cmap.track(h.prefix, print, events=0),
        ValueError,
        r"^events must be a TrackEvent \(1 to 7\), not 0$",
    ),
    case(
        "cmap-track-events-negative",
        lambda h: h.cmap.track(h.prefix, print, events=-1),
        ValueError,
        r"TrackEvent \(1 to 7\), not -1$",
    ),
    case(
        "cmap-track-events-2**64",
        lambda h: h.cmap.track(h.prefix, print, events=2**64),
        ValueError,
        r"TrackEvent \(1 to 7\), not 18446744073709551616$",
    ),
    case(
        "cmap-track-prefix-str",
        lambda h: h.cmap.track(h.prefix, print, prefix="yes"),
        TypeError,
        "^track\\(\\) argument 'prefix' must be bool, not str$",
    ),
    case(
        "cmap-track-key-surrogate",
        lambda h: h.cmap.track(SURROGATE, print),
        UnicodeEncodeError,
        "surrogates not allowed in key$",
    ),
    case(
        "cmap-untrack-none",
        lambda h: h.cmap.untrack(None),
        TypeError,
        "^untrack\\(\\) argument track must be Track, not NoneType$",
    ),
    case(
        "cmap-map-5",
        lambda h: h.open(corosync.CMAP, 5),
        ValueError,
        r"^map must be a CmapMap \(0 to 1\), not 5$",
    ),
    case(
        "cmap-map-negative",
        lambda h: h.open(corosync.CMAP, -1),
        ValueError,
        r"CmapMap \(0 to 1\), not -1$",
    ),
    case(
        "cmap-map-str",
        lambda h: h.open(corosync.CMAP, "icmap"),
        TypeError,
        "^map must be CmapMap or an int, not str$",
    ),
    case(
        "cmap-retry_timeout-inf",
        lambda h: h.open(corosync.CMAP, retry_timeout=math.inf),
        ValueError,
        "^retry_timeout must be a finite number of seconds >= 0$",
    ),
]

QUORUM_ARGUMENTS = [
    case(
        "quorum-trackstart-2**32",
        lambda h: h.quorum.trackstart(2**32),
        ValueError,
        r"^flags must be a TrackFlags \(1 to 7\), not 4294967296$",
    ),
    case(
        "quorum-trackstart-2**64+1",
        lambda h: h.quorum.trackstart(2**64 + 1),
        ValueError,
        "not 18446744073709551617$",
    ),
    case(
        "quorum-dispatch-0",
        lambda h: h.quorum.dispatch(0),
        ValueError,
        r"^flags must be a DispatchFlags \(1 to 4\), not 0$",
    ),
    case(
        "quorum-retry_timeout-nan",
        lambda h: h.open(corosync.Quorum, retry_timeout=math.nan),
        ValueError,
        "retry_timeout must be a finite number",
    ),
    case(
        "quorum-on_nodelist-int",
        lambda h: h.open(corosync.Quorum, on_nodelist=1),
        TypeError,
        "^on_nodelist must be callable or None, not int$",
    ),
    case(
        "quorum-misspelt-keyword",
        lambda h: h.open(corosync.Quorum, on_notfy=print),
        TypeError,
        "^Quorum\\(\\) got an unexpected keyword argument 'on_notfy' \\(did you mean",
    ),
    case(
        "quorum-on_notify-str",
        lambda h: setattr(h.quorum, "on_notify", "f"),
        TypeError,
        "^on_notify must be callable or None, not str$",
    ),
]

VOTEQUORUM_ARGUMENTS = [
    case(
        "votequorum-info-2**64",
        lambda h: h.votequorum.info(2**64),
        OverflowError,
        "^nodeid must be 0 to 4294967295, not 18446744073709551616$",
    ),
    case(
        "votequorum-set_votes-nodeid-negative",
        lambda h: h.votequorum.set_votes(1, -1),
        OverflowError,
        "^nodeid must be 0 to 4294967295, not -1$",
    ),
    case(
        "votequorum-trackstart-16",
        lambda h: h.votequorum.trackstart(16),
        ValueError,
        r"TrackFlags \(1 to 7\), not 16$",
    ),
    case(
        "votequorum-qdevice_register-empty",
        lambda h: h.votequorum.qdevice_register(""),
        corosync.InvalidParamError,
        "1 to 254 bytes without NUL, not 0 bytes",
    ),
    case(
        "votequorum-qdevice_register-255",
        lambda h: h.votequorum.qdevice_register("q" * 255),
        corosync.InvalidParamError,
        "not 255 bytes",
    ),
    case(
        "votequorum-qdevice_register-256-utf8-bytes",
        lambda h: h.votequorum.qdevice_register("é" * 128),
        corosync.InvalidParamError,
        "not 256 bytes",
    ),
    case(
        "votequorum-qdevice_register-nul",
        lambda h: h.votequorum.qdevice_register("a\0b"),
        corosync.InvalidParamError,
        "without NUL",
    ),
    case(
        "votequorum-qdevice_register-surrogate",
        lambda h: h.votequorum.qdevice_register(SURROGATE),
        UnicodeEncodeError,
        "surrogates not allowed in name$",
    ),
    case(
        "votequorum-qdevice_register-bytes",
        lambda h: h.votequorum.qdevice_register(b"q"),
        TypeError,
        "^qdevice_register\\(\\) argument 'name' must be str, not bytes$",
    ),
    case(
        "votequorum-qdevice_update-256",
        lambda h: h.votequorum.qdevice_update("q", "x" * 256),
        corosync.InvalidParamError,
        "not 256 bytes",
    ),
    case(
        "votequorum-qdevice_poll-ring-tuple",
        lambda h: h.votequorum.qdevice_poll("q", True, (1, 1)),
        TypeError,
        "^ring_id must be a corosync.RingId, not tuple$",
    ),
    case(
        "votequorum-qdevice_poll-cast_vote-str",
        lambda h: h.votequorum.qdevice_poll("q", "yes", RingId(1, 1)),
        TypeError,
        "^qdevice_poll\\(\\) argument 'cast_vote' must be bool, not str$",
    ),
    case(
        "votequorum-on_expectedvotes-int",
        lambda h: h.open(corosync.Votequorum, on_expectedvotes=1),
        TypeError,
        "^on_expectedvotes must be callable or None, not int$",
    ),
]

CFG_ARGUMENTS = [
    case(
        "cfg-node_addrs-2**32",
        lambda h: h.cfg.node_addrs(2**32),
        OverflowError,
        "^nodeid must be 0 to 4294967295, not 4294967296$",
    ),
    case(
        "cfg-kill_node-reason-surrogate",
        lambda h: h.cfg.kill_node(99, SURROGATE),
        UnicodeEncodeError,
        "surrogates not allowed in reason$",
    ),
    case(
        "cfg-kill_node-reason-256-utf8-bytes",
        lambda h: h.cfg.kill_node(99, "é" * 128),
        corosync.NameTooLongError,
        "the reason is 256 bytes, at most 255 fit",
    ),
    case(
        "cfg-kill_node-reason-bytes",
        lambda h: h.cfg.kill_node(99, b"r"),
        TypeError,
        "^kill_node\\(\\) argument 'reason' must be str, not bytes$",
    ),
    case(
        "cfg-try_shutdown-5",
        lambda h: h.cfg.try_shutdown(5),
        ValueError,
        r"^flags must be a ShutdownFlags \(0 to 2\), not 5$",
    ),
    case(
        "cfg-try_shutdown-negative",
        lambda h: h.cfg.try_shutdown(-1),
        ValueError,
        r"ShutdownFlags \(0 to 2\), not -1$",
    ),
    case(
        "cfg-try_shutdown-str",
        lambda h: h.cfg.try_shutdown("REQUEST"),
        TypeError,
        "^flags must be ShutdownFlags or an int, not str$",
    ),
    case(
        "cfg-reply_to_shutdown-2",
        lambda h: h.cfg.reply_to_shutdown(2),
        ValueError,
        r"^reply must be a ShutdownReply \(0 to 1\), not 2$",
    ),
    case(
        "cfg-reply_to_shutdown-str",
        lambda h: h.cfg.reply_to_shutdown("YES"),
        TypeError,
        "^reply must be ShutdownReply or an int, not str$",
    ),
    case(
        "cfg-on_shutdown-str",
        lambda h: h.open(corosync.CFG, on_shutdown="f"),
        TypeError,
        "^on_shutdown must be callable or None, not str$",
    ),
    case(
        "cfg-retry_timeout-negative",
        lambda h: h.open(corosync.CFG, retry_timeout=-1),
        ValueError,
        "^retry_timeout must be a finite number of seconds >= 0$",
    ),
]

ARGUMENTS = [
    *CPG_ARGUMENTS,
    *CMAP_ARGUMENTS,
    *QUORUM_ARGUMENTS,
    *VOTEQUORUM_ARGUMENTS,
    *CFG_ARGUMENTS,
]
