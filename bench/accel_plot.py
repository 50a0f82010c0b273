#!/usr/bin/python3
"""Plots learnkv-calibrate's CSVs. Usage: accel_plot.py in.csv out.png

A sweep (bench/accel_sweep.sh): time per batch against batch size for each model, the CPU
measured on this machine and each device preset simulated by the cost model
(learned/accel/cost_model.h).

A GPU validation (bench/accel_validate.sh, learnkv-calibrate --device=cuda --validate): for each
model, measured and predicted time per batch on the GPU and the CPU, and below it the device
prediction's relative error against the issue's goals (10% mean, 30% worst), with the batch
sizes whose offload decision the prediction got wrong marked."""
import csv
import math
import sys

KINDS = ["rmi", "ngram", "grid", "mlp", "rmi_train"]
TITLES = {
    "rmi": "RMI lookup (Rmi::Lookup)",
    "ngram": "n-gram classifier (Score)",
    "grid": "grid classifier (Score)",
    "mlp": "int8 MLP 32-64-64-1 (reference)",
    "rmi_train": "RMI fit (RmiBuilder::Finish)",
}


def load(path):
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows.setdefault(r["kind"], {}).setdefault(r["device"], []).append(r)
    return rows


def load_validation(path):
    """Rows of a validation CSV by kind, in file order, with numbers converted."""
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            row = {k: (v if k == "kind" else float(v)) for k, v in r.items()}
            rows.setdefault(r["kind"], []).append(row)
    return rows


def validation_points(rows):
    """Per kind: batch sizes, the four times in us, relative errors in %, and the sizes whose
    predicted decision (device if predicted device < predicted cpu) differs from the measured
    one."""
    out = {}
    for kind, rs in rows.items():
        p = {"n": [r["items"] for r in rs]}
        for key in ("measured_device_ns", "predicted_device_ns", "measured_cpu_ns",
                    "predicted_cpu_ns"):
            p[key] = [r[key] / 1e3 for r in rs]
        p["error"] = [100 * abs(r["predicted_device_ns"] - r["measured_device_ns"]) /
                      r["measured_device_ns"] for r in rs]
        p["wrong"] = [r["items"] for r in rs
                      if (r["predicted_device_ns"] < r["predicted_cpu_ns"]) !=
                      (r["measured_device_ns"] < r["measured_cpu_ns"])]
        out[kind] = p
    return out


def plot_validation(plt, path, png):
    points = validation_points(load_validation(path))
    kinds = [k for k in KINDS if k in points] + [k for k in points if k not in KINDS]
    fig, axes = plt.subplots(2, len(kinds), figsize=(4.2 * len(kinds), 7.5), squeeze=False,
                             gridspec_kw={"height_ratios": [2, 1]})
    for col, kind in enumerate(kinds):
        p = points[kind]
        ax = axes[0][col]
        ax.plot(p["n"], p["measured_device_ns"], "o", color="tab:red", ms=4,
                label="GPU measured")
        ax.plot(p["n"], p["predicted_device_ns"], "-", color="tab:red", label="GPU predicted")
        ax.plot(p["n"], p["measured_cpu_ns"], "s", color="black", ms=3, label="CPU measured")
        ax.plot(p["n"], p["predicted_cpu_ns"], "--", color="black", label="CPU predicted")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(TITLES.get(kind, kind), fontsize=10)
        ax.set_ylabel("time per batch (us)")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
        ax = axes[1][col]
        ax.plot(p["n"], p["error"], "o-", color="tab:red", ms=3)
        ax.axhline(10, color="tab:green", ls=":", label="10% (mean goal)")
        ax.axhline(30, color="tab:orange", ls=":", label="30% (worst goal)")
        for n in p["wrong"]:
            ax.axvline(n, color="tab:purple", alpha=0.4)
        if p["wrong"]:
            ax.plot([], [], color="tab:purple", label="decision wrong")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("batch size (items)")
        ax.set_ylabel("GPU prediction error (%)")
        ax.set_ylim(bottom=0)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Cost model against a real GPU: predicted and measured time per batch")
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    print(f"wrote {png}")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("accel_plot.py: matplotlib missing (python3-matplotlib), no plot")
    with open(sys.argv[1]) as f:
        header = f.readline()
    if "measured_device_ns" in header:
        plot_validation(plt, sys.argv[1], sys.argv[2])
        return
    rows = load(sys.argv[1])
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    styles = {"tpu-v1": ("tab:blue", "--"), "tpu-v2": ("tab:green", "-."), "h200": ("tab:red", ":")}
    for ax, kind in zip(axes.flat, KINDS):
        by_device = rows.get(kind, {})
        if not by_device:
            ax.set_visible(False)
            continue
        first = next(iter(by_device.values()))
        xs = [int(r["batch"]) for r in first]
        ax.plot(xs, [float(r["cpu_ns"]) / 1e3 for r in first], "k-o", ms=3,
                label="CPU (measured here)")
        for device, rs in by_device.items():
            color, dash = styles.get(device, (None, "--"))
            pts = [(int(r["batch"]), float(r["device_ns"]) / 1e3) for r in rs
                   if math.isfinite(float(r["device_ns"]))]
            if not pts:
                ax.plot([], [], color=color, ls=dash, label=f"{device}: unsupported")
                continue
            ax.plot(*zip(*pts), color=color, ls=dash, label=f"{device} (simulated)")
            wins = [int(r["batch"]) for r in rs if r["decision"] == "device"]
            if wins:
                x = wins[0]
                y = next(p[1] for p in pts if p[0] == x)
                ax.plot([x], [y], marker="v", color=color, ms=8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(TITLES.get(kind, kind), fontsize=10)
        ax.set_xlabel("batch size (items)")
        ax.set_ylabel("time per batch (us)")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    axes.flat[-1].axis("off")
    axes.flat[-1].text(0.0, 0.5,
                       "CPU: measured on this machine (learnkv-calibrate).\n"
                       "Devices: predicted by the cost model from datasheet\n"
                       "figures; no accelerator was used, none is calibrated.\n"
                       "Triangles: first batch size where the device wins.",
                       fontsize=9, va="center")
    fig.suptitle("Predicted time per batch: CPU (measured) vs simulated accelerators")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=90)
    print(f"wrote {sys.argv[2]}")


if __name__ == "__main__":
    main()
