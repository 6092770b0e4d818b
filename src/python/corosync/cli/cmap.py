"""``cmap get|set|delete|list|track|stats``: the CMAP database, as corosync-cmapctl shows it
(``key (type) = value`` lines)."""

from __future__ import annotations

import argparse

from corosync.cli.cmap_values import line, parse_value, type_name, value_json
from corosync.cli.command import Command, Subcommands
from corosync.cli.errors import EXIT_OK, CliError
from corosync.cli.output import Output
from corosync.cli.stream import Stream, add_stream_arguments
from corosync.cmap import CMAP, CmapMap, TrackEvent, TypedValue

__all__ = ["add_commands"]

Parser = argparse.ArgumentParser

_MAPS = {"icmap": CmapMap.ICMAP, "stats": CmapMap.STATS}
_EVENTS = {TrackEvent.ADD: "add", TrackEvent.DELETE: "delete", TrackEvent.MODIFY: "modify"}
# corosync-cmapctl -t's prefix of each line.
_PROMPTS = {
    TrackEvent.ADD: "create> ",
    TrackEvent.DELETE: "delete> ",
    TrackEvent.MODIFY: "modify> ",
}


def add_commands(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    group = commands.add_parser(
        "cmap",
        help="the configuration and runtime database (corosync-cmapctl)",
        description="Read, change and track CMAP keys, as corosync-cmapctl does.",
    )
    sub = group.add_subparsers(metavar="COMMAND", required=True)

    def command(name: str, summary: str, run: Command, *, map_option: bool = True) -> Parser:
        parser = sub.add_parser(name, parents=[common], help=summary, description=summary)
        if map_option:
            parser.add_argument(
                "-m", "--map", choices=_MAPS, default="icmap", help="the map (default icmap)"
            )
        parser.set_defaults(run=run)
        return parser

    get = command("get", "print keys (corosync-cmapctl -g); a missing key is an error", get_keys)
    get.add_argument("keys", nargs="+", metavar="KEY")
    _binary_option(get)
    set_ = command("set", "set a key (corosync-cmapctl -s)", set_key)
    set_.add_argument("key", metavar="KEY")
    set_.add_argument("type", metavar="TYPE", help="i8 u8 i16 u16 i32 u32 i64 u64 flt dbl str bin")
    set_.add_argument("value", metavar="VALUE", help="for bin: a file name, or - for stdin")
    delete = command("delete", "delete keys (corosync-cmapctl -d, -D)", delete_keys)
    delete.add_argument("keys", nargs="+", metavar="KEY")
    delete.add_argument(
        "--prefix", action="store_true", help="delete every key with these prefixes"
    )
    list_ = command("list", "print every key, or those with the prefixes", list_keys)
    list_.add_argument("prefixes", nargs="*", metavar="PREFIX")
    _binary_option(list_)
    stats = command(
        "stats",
        "print the statistics map (corosync-cmapctl -m stats)",
        list_stats,
        map_option=False,
    )
    stats.add_argument("prefixes", nargs="*", metavar="PREFIX")
    _binary_option(stats)
    track = command(
        "track",
        "print each change of keys (corosync-cmapctl -t, -T) until Ctrl-C or SIGTERM; "
        "--count counts the changes",
        track_keys,
    )
    track.add_argument("keys", nargs="+", metavar="KEY")
    track.add_argument("--prefix", action="store_true", help="track every key with these prefixes")
    _binary_option(track)
    add_stream_arguments(track)


def _binary_option(parser: Parser) -> None:
    parser.add_argument(
        "-b", "--binary", action="store_true", help="show binary values (corosync-cmapctl -b)"
    )


def _items(out: Output, map_name: str, items: list[tuple[str, TypedValue]], binary: bool) -> None:
    if out.json:
        fields = [{"key": k, "type": type_name(v.type), "value": value_json(v)} for k, v in items]
        out.document("cmap_items", {"map": map_name, "items": fields})
    else:
        out.lines(line(key, typed, show_binary=binary) for key, typed in items)


def get_keys(args: argparse.Namespace, out: Output) -> int:
    with CMAP(map=_MAPS[args.map]) as cmap:
        items = [(key, cmap.get(key)) for key in args.keys]
    _items(out, args.map, items, args.binary)
    return EXIT_OK


def set_key(args: argparse.Namespace, out: Output) -> int:
    value_type, value = parse_value(args.type, args.value)
    with CMAP(map=_MAPS[args.map]) as cmap:
        try:
            cmap.set(args.key, value, value_type)
        except (ValueError, OverflowError) as error:  # the binding's checks, one line each
            raise CliError(str(error)) from error
        typed = cmap.get(args.key)
    if out.json:  # like corosync-cmapctl, nothing to say in text
        _items(out, args.map, [(args.key, typed)], True)
    return EXIT_OK


def delete_keys(args: argparse.Namespace, out: Output) -> int:
    with CMAP(map=_MAPS[args.map]) as cmap:
        keys = args.keys
        if args.prefix:
            keys = [key for prefix in args.keys for key in list(cmap.keys(prefix))]
        for key in keys:
            cmap.delete(key)
    if out.json:
        out.document("cmap_deleted", {"map": args.map, "keys": keys})
    return EXIT_OK


def _list(out: Output, map_name: str, prefixes: list[str], binary: bool) -> int:
    with CMAP(map=_MAPS[map_name]) as cmap:
        items = [item for prefix in prefixes or [""] for item in cmap.items(prefix)]
    _items(out, map_name, items, binary)
    return EXIT_OK


def list_keys(args: argparse.Namespace, out: Output) -> int:
    return _list(out, args.map, args.prefixes, args.binary)


def list_stats(args: argparse.Namespace, out: Output) -> int:
    return _list(out, "stats", args.prefixes, args.binary)


def track_keys(args: argparse.Namespace, out: Output) -> int:
    stream = Stream(args.count, args.timeout)

    def changed(
        event: TrackEvent, key: str, new: TypedValue | None, old: TypedValue | None
    ) -> None:
        if stream.done:
            return
        if out.json:
            fields = {
                "map": args.map,
                "event": _EVENTS.get(event, str(int(event))),
                "key": key,
                "new": _typed_json(new),
                "old": _typed_json(old),
            }
            out.document("cmap_change", fields)
        else:
            shown = new if new is not None else old
            text = key if shown is None else line(key, shown, show_binary=args.binary)
            out.lines([_PROMPTS.get(event, "unknown change> ") + text])
        stream.counted()

    with CMAP(map=_MAPS[args.map]) as cmap:
        for key in args.keys:
            cmap.track(key, changed, prefix=args.prefix)
        stream.run([cmap])
    return EXIT_OK


def _typed_json(typed: TypedValue | None) -> dict[str, object] | None:
    return None if typed is None else {"type": type_name(typed.type), "value": value_json(typed)}
