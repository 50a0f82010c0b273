#!/usr/bin/env python3
"""Plots bench/filter_bench.cc's CSV: bits per key (model included) against the false-positive
rate measured on test negatives, one panel per data set, one line per filter type; and writes a
Markdown section with the 1% row of every data set.

  python3 scripts/plot_filters.py CSV --png docs/img/filter_bits_fpr.png \
      [--section docs/benchmarks.md]

--section replaces (or appends) the "## Membership filters" section of that Markdown file, the
way bench/compare adds its own section after bench/report.py has written the file.
"""
import argparse
import csv
import re
import sys
from collections import defaultdict

STYLES = {
    "bloom": ("tab:gray", "o", "blocked Bloom"),
    "fuse": ("tab:blue", "s", "binary fuse"),
    "learned": ("tab:red", "^", "learned (front filter >= 3 bits)"),
    "learned_compact": ("tab:orange", "v", "learned, compact (no front rule)"),
    "auto": ("tab:green", "x", "auto (the table default)"),
}
TITLES = {
    "url_s90": "URLs, separability 0.90",
    "url_s95": "URLs, separability 0.95",
    "url_s99": "URLs, separability 0.99",
    "url_s100": "URLs, separability 1.0",
    "id_gaps": "IDs with gaps",
    "ycsb": "YCSB (random)",
}


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def plot(rows, png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = [s for s in TITLES if any(r["set"] == s for r in rows)]
    cols = 3
    nrows = (len(sets) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(5 * cols, 4 * nrows), squeeze=False)
    for ax, name in zip(axes.flat, sets):
        series = defaultdict(list)
        for r in rows:
            if r["set"] == name:
                series[r["type"]].append((float(r["fpr"]), float(r["bits_per_key"])))
        for kind, pts in series.items():
            color, marker, label = STYLES.get(kind, ("black", ".", kind))
            pts.sort()
            ax.plot([max(p[0], 1e-5) for p in pts], [p[1] for p in pts], marker=marker,
                    color=color, label=label, linewidth=1.2, markersize=4)
        ax.axvline(0.01, color="black", linewidth=0.5, linestyle=":")
        ax.axhline(5.0, color="tab:red", linewidth=0.5, linestyle=":")
        ax.set_xscale("log")
        ax.set_title(TITLES.get(name, name))
        ax.set_xlabel("false-positive rate (test negatives)")
        ax.set_ylabel("bits per key, model included")
        ax.grid(True, which="both", linewidth=0.3)
    for ax in list(axes.flat)[len(sets):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def section(rows, png_rel):
    at1 = [r for r in rows if abs(float(r["target_fpr"]) - 0.01) < 1e-12]
    lines = [
        "## Membership filters",
        "",
        "`filter_bench` (bench/filter_bench.cc): each filter built as a table build does it, sized",
        "for a target false-positive rate, measured on test negatives the learned filter never saw.",
        "Bits per key count the whole filter block, model included. Probe times are medians over",
        "batches of 256 probes (absent keys; present keys in brackets). See docs/filters.md.",
        "",
        f"![bits per key against false-positive rate]({png_rel})",
        "",
        "At a 1% target:",
        "",
        "| data set | filter | built | bits/key | FPR | probe p50 ns | build ms |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in at1:
        lines.append(
            f"| {TITLES.get(r['set'], r['set'])} | {r['type']} | {r['kind']} | "
            f"{float(r['bits_per_key']):.2f} | {100 * float(r['fpr']):.2f}% | "
            f"{float(r['probe_p50_ns']):.0f} ({float(r['probe_pos_p50_ns']):.0f}) | "
            f"{float(r['build_ms']):.0f} |"
        )
    return "\n".join(lines) + "\n"


def replace_section(path, text):
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        old = ""
    pattern = re.compile(r"^## Membership filters\n.*?(?=^## |\Z)", re.S | re.M)
    new = pattern.sub(lambda m: text + "\n", old) if pattern.search(old) else old.rstrip() + "\n\n" + text
    with open(path, "w") as f:
        f.write(new)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("csv")
    p.add_argument("--png", required=True)
    p.add_argument("--section", help="Markdown file whose filter section to write")
    p.add_argument("--png_rel", default="img/filter_bits_fpr.png")
    a = p.parse_args()
    rows = read(a.csv)
    if not rows:
        sys.exit("no rows in " + a.csv)
    plot(rows, a.png)
    if a.section:
        replace_section(a.section, section(rows, a.png_rel))


if __name__ == "__main__":
    main()
