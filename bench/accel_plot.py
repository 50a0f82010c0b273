#!/usr/bin/python3
"""Plots learnkv-calibrate's CSV (bench/accel_sweep.sh): time per batch against batch size for
each model, the CPU measured on this machine and each device preset simulated by the cost
model (learned/accel/cost_model.h). Usage: accel_plot.py sweep.csv out.png"""
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


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("accel_plot.py: matplotlib missing (python3-matplotlib), no plot")
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
