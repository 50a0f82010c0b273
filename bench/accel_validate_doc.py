#!/usr/bin/python3
"""Puts the GPU validation's markdown (learnkv-calibrate --device=cuda --validate
--validation_md=...) and its plot into docs/accelerator.md, replacing whatever stands between the
markers <!-- accel-validation:begin --> and <!-- accel-validation:end -->. bench/accel_validate.sh
runs it. Usage: accel_validate_doc.py docs/accelerator.md validation.md [plot path relative to
the doc]"""
import sys

BEGIN = "<!-- accel-validation:begin -->"
END = "<!-- accel-validation:end -->"


def splice(doc, table, plot):
    """The doc with the region between the markers replaced by the table (and the plot)."""
    start = doc.find(BEGIN)
    end = doc.find(END)
    if start < 0 or end < start:
        raise ValueError(f"markers {BEGIN} ... {END} not found in order")
    body = table.strip() + "\n"
    if plot:
        body = f"![GPU validation: predicted and measured time per batch]({plot})\n\n" + body
    return doc[:start + len(BEGIN)] + "\n" + body + doc[end:]


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        doc = f.read()
    with open(sys.argv[2]) as f:
        table = f.read()
    plot = sys.argv[3] if len(sys.argv) == 4 else ""
    try:
        doc = splice(doc, table, plot)
    except ValueError as e:
        sys.exit(f"accel_validate_doc.py: {sys.argv[1]}: {e}")
    with open(sys.argv[1], "w") as f:
        f.write(doc)
    print(f"updated {sys.argv[1]}")


if __name__ == "__main__":
    main()
