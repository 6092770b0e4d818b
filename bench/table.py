"""The table the bench prints: one row per work item, a Markdown table so that it pastes
into an issue or the README as it is."""

from __future__ import annotations

from .results import Row

DASH = "—"
HEADER = ("work", "C", "binding", "binding ÷ C", "floor ÷ C", "note")


def figure(value: float | None, unit: str, label: str = "") -> str:
    """A figure with its unit, e.g. ``18,234 msg/s``, ``47.1 MB/s``, ``+1,024 KiB``."""
    if value is None:
        return DASH
    if unit == "MB/s":
        text = f"{value:,.1f} {unit}"
    elif unit == "KiB":
        text = f"{value:+,.0f} {unit}"
    else:
        text = f"{value:,.0f} {unit}"
    return f"{label}: {text}" if label else text


def ratio(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def cells(row: Row) -> tuple[str, str, str, str, str, str]:
    return (
        row.work,
        figure(row.c, row.unit, row.c_label),
        figure(row.binding, row.unit, row.binding_label),
        ratio(row.ratio),
        ratio(row.floor_ratio),
        row.note,
    )


def render(rows: list[Row], rounds: int) -> str:
    """The table, then a line saying how its figures were made."""
    lines = [HEADER, *(cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]

    def format_line(line: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    out = [format_line(lines[0]), rule, *(format_line(line) for line in lines[1:])]
    plural = "s" if rounds != 1 else ""
    out.append("")
    out.append(
        f"Figures: median of {rounds} round{plural}, C and binding run one after the other in "
        "each (C first in odd rounds); ratio: median of the rounds' binding ÷ C; floor: the "
        "C program also calling the binding worker's Python callback per message, run "
        "between the two (the best a Python binding running that callback can reach here); "
        "CPU/msg (CPU/op): the worker process's CPU time per message (operation), binding ÷ C "
        "(median); daemons' CPU/msg: the same for the three corosync daemons while each "
        "worker ran; median 95 % in A to B (from 6 rounds on): the interval that holds the "
        "median of such rounds with at least 95 % confidence, from the rounds' order "
        "statistics (single rounds spread widely on a busy machine). Absolute figures vary "
        "between machines; the ratios are the claim."
    )
    return "\n".join(out)
