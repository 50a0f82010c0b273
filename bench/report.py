#!/usr/bin/env python3
"""Turns table_bench's JSON output into docs/benchmarks.md and docs/img/table_bench.png.

Usage: report.py --out docs/benchmarks.md --img docs/img RESULTS.json [MORE.json ...]

Takes the median of the repetitions of every benchmark (Google Benchmark's "median" aggregate,
or the single run when there was one repetition). Later files override earlier ones for the
same benchmark, so a 10M run can be added to a 1M one.
"""
import argparse
import datetime
import json
import os
import sys

KINDS = ["learned", "block", "rocksdb"]
# Targets the learned index is meant to reach (docs/benchmarks.md repeats them).
TARGET_SPEEDUP = 1.5
TARGET_SIZE_RATIO = 0.1
TARGET_TRAINING_OVERHEAD = 0.10


def load(paths):
    """{(bench, dataset, size, kind): {"time": ..., counters...}} of medians, and a context."""
    results, context = {}, {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        context = data.get("context", context)
        runs = {}
        for b in data["benchmarks"]:
            parts = b["run_name"].split("/")
            if len(parts) < 4 or b.get("error_occurred"):
                continue
            key = tuple(parts[:4])
            if b.get("run_type") == "aggregate":
                if b.get("aggregate_name") == "median":
                    runs[key] = b
            elif key not in runs or runs[key].get("run_type") != "aggregate":
                runs[key] = b  # a single repetition: its run is the median
        for key, b in runs.items():
            row = {k: v for k, v in b.items() if isinstance(v, (int, float))}
            row["time"] = b["real_time"]
            row["time_unit"] = b.get("time_unit", "ns")
            results[key] = row
    return results, context


def fmt(v, digits=1):
    if v is None:
        return "–"
    if abs(v) >= 100 or digits == 0:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def ratio(a, b, digits=2):
    if a is None or b in (None, 0):
        return "–"
    return f"{a / b:.{digits}f}×"


def size_key(s):
    return float(s[:-1]) * (1e6 if s.endswith("M") else 1e3 if s.endswith("K") else 1)


def tables(results):
    groups = sorted({(k[1], k[2]) for k in results}, key=lambda g: (size_key(g[1]), g[0]))

    def get(bench, ds, size, kind, field):
        r = results.get((bench, ds, size, kind))
        return None if r is None else r.get(field)

    lines = ["## Point lookups and index size", "",
             "Median ns per lookup of a random present key (warm block cache), and index bytes "
             "per key (learned: RMI + block locator; block: the classic index block; RocksDB: "
             "`index_size` of its table properties).", "",
             "| data set | keys | learned ns | block ns | RocksDB ns | block ÷ learned "
             "| RocksDB ÷ learned | learned B/key | block B/key | RocksDB B/key "
             "| learned ÷ block size | RMI mean err |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for ds, size in groups:
        t = {k: get("Lookup", ds, size, k, "time") for k in KINDS}
        b = {k: get("Lookup", ds, size, k, "index_bytes_per_key") for k in KINDS}
        err = get("Lookup", ds, size, "learned", "rmi_mean_error")
        if all(v is None for v in t.values()):
            continue
        lines.append(
            f"| {ds} | {size} | {fmt(t['learned'])} | {fmt(t['block'])} | {fmt(t['rocksdb'])} "
            f"| **{ratio(t['block'], t['learned'])}** | {ratio(t['rocksdb'], t['learned'])} "
            f"| {fmt(b['learned'], 3)} | {fmt(b['block'], 3)} | {fmt(b['rocksdb'], 3)} "
            f"| **{ratio(b['learned'], b['block'], 3)}** | {fmt(err)} |")

    lines += ["", "## Table build", "",
              "Median milliseconds per million keys to write the table (first Add to Finish). "
              "The learned build trains the RMI inside it; overhead = learned ÷ block − 1.", "",
              "| data set | keys | learned ms/Mkeys | block ms/Mkeys | RocksDB ms/Mkeys "
              "| training ms/Mkeys | training ÷ learned build | learned overhead |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for ds, size in groups:
        m = {k: get("Build", ds, size, k, "build_ms_per_Mkeys") for k in KINDS}
        train = get("Build", ds, size, "learned", "training_ms_per_Mkeys")
        if all(v is None for v in m.values()):
            continue
        share = None if train is None or not m["learned"] else train / m["learned"]
        over = None if not m["learned"] or not m["block"] else m["learned"] / m["block"] - 1
        lines.append(
            f"| {ds} | {size} | {fmt(m['learned'])} | {fmt(m['block'])} | {fmt(m['rocksdb'])} "
            f"| {fmt(train)} | {'–' if share is None else f'{100 * share:.1f}%'} "
            f"| **{'–' if over is None else f'{100 * over:+.1f}%'}** |")
    real = [(ds, size) for ds, size in groups if get("BuildFile", ds, size, "learned", "time")]
    if real:
        lines += ["", "### Realistic build (lz4, written to a file)", "",
                  "The same tables built as a real flush would: lz4 compression, written to a "
                  "file (closed, not synced). The training share of this build is the one a "
                  "real flush sees; the table above (no compression, no I/O) is the worst case.",
                  "", "| data set | keys | learned ms/Mkeys | block ms/Mkeys | training ms/Mkeys "
                  "| training ÷ learned build | learned overhead |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for ds, size in real:
            lb = get("BuildFile", ds, size, "learned", "build_ms_per_Mkeys")
            bb = get("BuildFile", ds, size, "block", "build_ms_per_Mkeys")
            train = get("BuildFile", ds, size, "learned", "training_ms_per_Mkeys")
            share = None if train is None or not lb else train / lb
            over = None if not lb or not bb else lb / bb - 1
            lines.append(
                f"| {ds} | {size} | {fmt(lb)} | {fmt(bb)} | {fmt(train)} "
                f"| {'–' if share is None else f'{100 * share:.1f}%'} "
                f"| **{'–' if over is None else f'{100 * over:+.1f}%'}** |")
    return groups, lines


def plot(results, groups, img_dir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report.py: matplotlib missing, no plot", file=sys.stderr)
        return None
    sizes = sorted({s for _, s in groups}, key=size_key)
    fig, axes = plt.subplots(2, len(sizes), figsize=(6 * len(sizes) + 2, 8), squeeze=False)
    colors = {"learned": "tab:orange", "block": "tab:blue", "rocksdb": "tab:gray"}
    for col, size in enumerate(sizes):
        sets = [ds for ds, s in groups if s == size]
        for row, (field, label) in enumerate([("time", "ns per lookup"),
                                              ("index_bytes_per_key", "index bytes per key")]):
            ax = axes[row][col]
            width = 0.8 / len(KINDS)
            for i, kind in enumerate(KINDS):
                vals = [results.get(("Lookup", ds, size, kind), {}).get(field, 0) for ds in sets]
                xs = [x + (i - 1) * width for x in range(len(sets))]
                ax.bar(xs, vals, width, label=kind, color=colors[kind])
            ax.set_xticks(range(len(sets)))
            ax.set_xticklabels(sets, rotation=20)
            ax.set_ylabel(label)
            if field != "time":
                ax.set_yscale("log")
            ax.set_title(f"{label}, {size} keys")
            ax.grid(axis="y", alpha=0.3)
            ax.legend()
    fig.tight_layout()
    os.makedirs(img_dir, exist_ok=True)
    path = os.path.join(img_dir, "table_bench.png")
    fig.savefig(path, dpi=100)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--img", required=True)
    ap.add_argument("json", nargs="+")
    args = ap.parse_args()
    results, ctx = load(args.json)
    if not results:
        sys.exit("report.py: no results in " + " ".join(args.json))
    groups, body = tables(results)
    png = plot(results, groups, args.img)

    caches = ", ".join(f"L{c['level']} {c['size'] // 1024} KiB" for c in ctx.get("caches", [])
                       if c.get("type") in ("Data", "Unified"))
    out = ["# Benchmarks", "",
           f"Generated by `make bench` (bench/run_all.sh → bench/report.py) on "
           f"{ctx.get('date', datetime.date.today().isoformat())}: {ctx.get('num_cpus', '?')} CPUs "
           f"at {ctx.get('mhz_per_cpu', '?')} MHz, {caches}. Medians of 3 repetitions.", "",
           "**table_bench** (bench/table_bench.cc): one set of entries — 16-byte user keys, "
           "100-byte values, no compression, no filter, 4 KiB blocks — written as a learnkv table with the "
           "learned index, the same table with the classic block index, and RocksDB's "
           "block-based table (Debian's librocksdb 7.8.3 via SstFileWriter/SstFileReader, "
           "lookups by iterator Seek). All tables live in memory (in-memory Envs), each with a "
           "block cache holding all of it, warmed by a full scan before timing.", "",
           f"Targets: lookups ≥ {TARGET_SPEEDUP}× faster than the block index, index ≤ "
           f"{TARGET_SIZE_RATIO}× its size, training ≤ {TARGET_TRAINING_OVERHEAD:.0%} of the "
           "build time.", ""]
    out += body
    if png:
        rel = os.path.relpath(png, os.path.dirname(os.path.abspath(args.out)))
        out += ["", f"![lookup time and index size per data set]({rel})"]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")
    print("report.py: wrote " + args.out + (" and " + png if png else ""))


if __name__ == "__main__":
    main()
