#!/usr/bin/env python3
"""Draws a table's key CDF against its learned model's predictions (learnkv-sst --plot).

Usage: plot_cdf.py SAMPLES.csv OUT.png [TITLE]

SAMPLES.csv has the columns mapped_key,position,predicted,lo,hi: evenly spaced entries of the
table, each with its mapped key (the number the model sees), its true position, the model's
prediction and the window [lo, hi) a lookup searches. The top panel is the CDF (position over
mapped key) with the predictions on it; the bottom one the signed error and the window, which
is where a model that looks perfect on the CDF shows its misses.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rows = []
    with open(sys.argv[1], newline="") as f:
        for r in csv.DictReader(f):
            rows.append({k: int(v) for k, v in r.items()})
    if not rows:
        sys.exit("plot_cdf.py: no samples in " + sys.argv[1])
    title = sys.argv[3] if len(sys.argv) > 3 else ""

    x = [r["mapped_key"] for r in rows]
    pos = [r["position"] for r in rows]
    pred = [r["predicted"] for r in rows]
    err = [p - q for p, q in zip(pred, pos)]
    lo = [r["lo"] - r["position"] for r in rows]
    hi = [r["hi"] - 1 - r["position"] for r in rows]

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 8), height_ratios=[3, 2])
    top.plot(x, pos, color="black", linewidth=1.5, label="key CDF (true position)")
    top.plot(x, pred, color="tab:orange", linewidth=0, marker=".", markersize=2,
             label="model prediction")
    top.set_xlabel("mapped key")
    # Skewed sets (lognormal) crowd into one corner of a linear axis; a log axis shows them.
    positive = [v for v in x if v > 0]
    if positive and max(positive) / min(positive) > 1e4:
        top.set_xscale("symlog", linthresh=min(positive))
        top.set_xlabel("mapped key (log scale)")
    top.set_ylabel("position")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    if title:
        top.set_title(title)

    bottom.fill_between(pos, lo, hi, color="tab:blue", alpha=0.2, step="mid",
                        label="search window [lo, hi) - position")
    bottom.plot(pos, err, color="tab:orange", linewidth=0, marker=".", markersize=2,
                label="prediction - position")
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.set_xlabel("position")
    bottom.set_ylabel("records")
    bottom.set_yscale("symlog", linthresh=16)
    bottom.legend(loc="upper left")
    bottom.grid(alpha=0.3)

    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
