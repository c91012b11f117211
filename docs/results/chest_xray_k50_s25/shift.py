"""Twenty-fifth session, exploratory (after the declaration, no effect on the runs): how do the Kermany splits differ in
intensity? Per image, after the bundle's 64 px preprocessing: mean, standard deviation and the 5th / 95th
percentiles; per split (600 random training images, all validation and test images) and class. Writes a table to
stdout and ``intensity_shift.png`` beside this file. From the repo root:

    python docs/results/chest_xray_k50_s25/shift.py > docs/results/chest_xray_k50_s25/shift.md
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from monai.bundle import ConfigParser  # noqa: E402

HERE = Path(__file__).resolve().parent
B = "bundles/medienet_chest_xray/configs"


def main() -> None:
    cfg = ConfigParser()
    cfg.read_config([f"{B}/common.yaml", f"{B}/evaluate.yaml", f"{B}/lowdata.yaml"])
    source, pre = cfg.get_parsed_content("data_source"), cfg.get_parsed_content("preprocessing")
    rng = np.random.default_rng(0)
    train = source.splits["train"]
    sets = {
        "train (600 random)": [train[i] for i in rng.choice(len(train), 600, replace=False)],
        "val": source.splits["val"],
        "test": source.splits["test"],
    }
    stats: dict[str, dict[int, np.ndarray]] = {}
    for name, items in sets.items():
        rows = []
        for it in items:
            x = np.asarray(pre(dict(it))["image"], dtype=np.float32)[0]
            rows.append((int(it["label"]), x.mean(), x.std(), *np.percentile(x, [5, 95])))
        a = np.asarray(rows)
        stats[name] = {c: a[a[:, 0] == c, 1:] for c in (0, 1)}
    cols = ("mean", "std", "p5", "p95")
    print("| split | class | n | " + " | ".join(f"{c} (median [IQR])" for c in cols) + " |")
    print("|---|---|---|" + "---|" * len(cols))
    for name, by_c in stats.items():
        for c, a in by_c.items():
            q = np.percentile(a, [25, 50, 75], axis=0)
            cells = " | ".join(f"{q[1, j]:.3f} [{q[0, j]:.3f}, {q[2, j]:.3f}]" for j in range(len(cols)))
            print(f"| {name} | {source.classes[c]} | {len(a)} | {cells} |")
    fig, axes = plt.subplots(1, len(cols), figsize=(14, 3.2))
    for j, col in enumerate(cols):
        for name, by_c in stats.items():
            for c, ls in ((0, "-"), (1, "--")):
                axes[j].hist(
                    by_c[c][:, j], bins=30, histtype="step", density=True, ls=ls, label=f"{name}, {source.classes[c]}"
                )
        axes[j].set_title(f"per-image {col}", fontsize=9)
    axes[0].legend(fontsize=6)
    fig.suptitle("Kermany chest X-ray at 64 px: per-image intensity statistics by split and class", fontsize=9)
    fig.tight_layout()
    fig.savefig(HERE / "intensity_shift.png", dpi=110)


if __name__ == "__main__":
    main()
