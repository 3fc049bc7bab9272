"""Published numbers from the seed papers, as tidy tables: one row per (source, table, dataset, model, method,
sparsity) with mean and, where given, the standard deviation. These are the papers' numbers, never ours."""
from __future__ import annotations

import pandas as pd

SU_POSTER = "Su et al. 2020, poster (seed 001)"
SU_REPRO = "Atanov et al., [Re] Sanity-checking pruning methods (seed 000)"
SPARSITIES = (0.9, 0.95, 0.98)

# (dataset, model, method) -> accuracies at 90/95/98% sparsity as "mean±std" strings, copied from the tables.
_RT_001 = {
    ("cifar10", "vgg19", "lottery"): ("93.66±0.08", "93.39±0.13", "10.00±0.00"),
    ("cifar10", "vgg19", "snip"): ("93.65±0.14", "93.39±0.08", "81.37±18.17"),
    ("cifar10", "vgg19", "grasp"): ("93.01±0.16", "92.82±0.20", "91.90±0.23"),
    ("cifar10", "vgg19", "random_tickets"): ("93.77±0.10", "93.42±0.22", "92.45±0.22"),
    ("cifar100", "vgg19", "lottery"): ("72.58±0.27", "70.47±0.19", "1.00±0.00"),
    ("cifar100", "vgg19", "snip"): ("72.83±0.16", "71.81±0.11", "10.83±6.74"),
    ("cifar100", "vgg19", "grasp"): ("71.07±0.31", "70.14±0.21", "68.34±0.20"),
    ("cifar100", "vgg19", "random_tickets"): ("72.55±0.14", "71.37±0.09", "68.98±0.34"),
    ("cifar10", "resnet32", "lottery"): ("92.61±0.19", "91.37±0.28", "88.92±0.49"),
    ("cifar10", "resnet32", "snip"): ("92.81±0.17", "91.20±0.19", "87.94±0.40"),
    ("cifar10", "resnet32", "grasp"): ("92.79±0.24", "91.80±0.11", "89.21±0.26"),
    ("cifar10", "resnet32", "random_tickets"): ("92.97±0.05", "91.60±0.26", "89.10±0.33"),
    ("cifar100", "resnet32", "lottery"): ("69.63±0.26", "66.48±0.13", "60.22±0.60"),
    ("cifar100", "resnet32", "snip"): ("69.97±0.17", "64.81±0.44", "47.97±0.82"),
    ("cifar100", "resnet32", "grasp"): ("70.12±0.15", "67.05±0.39", "59.25±0.33"),
    ("cifar100", "resnet32", "random_tickets"): ("69.70±0.48", "66.82±0.12", "60.11±0.16"),
}
_PT_SANITY_001 = {  # CIFAR-10 only
    ("cifar10", "vgg19", "lottery"): ("93.66±0.08", "93.39±0.13", "10.00±0.00"),
    ("cifar10", "vgg19", "shuffle_weights"): ("93.54±0.04", "93.33±0.10", "10.00±0.00"),
    ("cifar10", "vgg19", "half_dataset"): ("93.79±0.14", "93.53±0.13", "10.00±0.00"),
    ("cifar10", "vgg19", "lr_rewinding"): ("94.14±0.17", "93.99±0.15", "10.00±0.00"),
    ("cifar10", "resnet32", "lottery"): ("92.61±0.19", "91.37±0.28", "88.92±0.49"),
    ("cifar10", "resnet32", "shuffle_weights"): ("92.38±0.36", "91.29±0.28", "88.52±0.47"),
    ("cifar10", "resnet32", "half_dataset"): ("93.01±0.18", "92.03±0.21", "89.95±0.08"),
    ("cifar10", "resnet32", "lr_rewinding"): ("94.14±0.10", "93.02±0.28", "90.83±0.22"),
}
_HYBRID_001 = {
    ("cifar10", "vgg19", "obd"): ("93.74", "93.58", "93.49"),
    ("cifar10", "vgg19", "lr_rewinding"): ("94.14±0.17", "93.99±0.15", "10.00±0.00"),
    ("cifar10", "vgg19", "hybrid"): ("94.00±0.12", "93.83±0.10", "93.52±0.28"),
    ("cifar100", "vgg19", "obd"): ("73.83", "71.98", "67.79"),
    ("cifar100", "vgg19", "lr_rewinding"): ("73.73±0.18", "72.39±0.40", "1.00±0.00"),
    ("cifar100", "vgg19", "hybrid"): ("73.53±0.20", "73.10±0.11", "71.61±0.46"),
    ("cifar10", "resnet32", "obd"): ("94.17", "93.29", "90.31"),
    ("cifar10", "resnet32", "lr_rewinding"): ("94.14±0.10", "93.02±0.28", "90.83±0.22"),
    ("cifar10", "resnet32", "hybrid"): ("93.98±0.15", "92.96±0.13", "90.85±0.06"),
    ("cifar100", "resnet32", "obd"): ("71.96", "68.73", "60.65"),
    ("cifar100", "resnet32", "lr_rewinding"): ("72.41±0.49", "67.22±3.42", "59.22±1.15"),
    ("cifar100", "resnet32", "hybrid"): ("71.47±0.26", "69.28±0.40", "63.44±0.34"),
}
_TABLE1_000 = {  # reproduction, last-epoch accuracy, single numbers
    ("cifar10", "vgg19", "snip"): ("93.29", "93.13", "89.56"),
    ("cifar10", "vgg19", "grasp"): ("93.14", "92.62", "92.00"),
    ("cifar10", "vgg19", "random_tickets"): ("93.65", "93.22", "92.41"),
    ("cifar100", "vgg19", "snip"): ("72.08", "69.75", "14.03"),
    ("cifar100", "vgg19", "grasp"): ("71.63", "70.89", "68.30"),
    ("cifar100", "vgg19", "random_tickets"): ("72.75", "72.00", "68.77"),
    ("cifar10", "resnet32", "snip"): ("92.55", "90.98", "87.49"),
    ("cifar10", "resnet32", "grasp"): ("92.29", "91.36", "88.09"),
    ("cifar10", "resnet32", "random_tickets"): ("92.84", "91.64", "88.68"),
    ("cifar100", "resnet32", "snip"): ("63.45", "55.74", "49.35"),
    ("cifar100", "resnet32", "grasp"): ("68.83", "66.22", "59.25"),
    ("cifar100", "resnet32", "random_tickets"): ("68.50", "65.99", "59.67"),
}
_TABLE2_000 = {
    ("cifar10", "vgg19", "lr_rewinding"): ("93.61", "93.47", "10.00"),
    ("cifar10", "vgg19", "hybrid"): ("93.52", "93.30", "92.93"),
    ("cifar100", "vgg19", "lr_rewinding"): ("71.60", "71.13", "57.01"),
    ("cifar100", "vgg19", "hybrid"): ("71.43", "70.96", "70.01"),
    ("cifar10", "resnet32", "lr_rewinding"): ("94.07", "92.92", "90.78"),
    ("cifar10", "resnet32", "hybrid"): ("93.60", "92.83", "90.47"),
    ("cifar100", "resnet32", "lr_rewinding"): ("72.08", "69.82", "61.25"),
    ("cifar100", "resnet32", "hybrid"): ("69.95", "68.02", "62.56"),
}
_FULL = [  # dense networks: (source, table, dataset, model, accuracy, note)
    (SU_POSTER, "random tickets table", "cifar10", "vgg19", 93.70, ""),
    (SU_POSTER, "random tickets table", "cifar100", "vgg19", 72.60, ""),
    (SU_POSTER, "random tickets table", "cifar10", "resnet32", 94.62, ""),
    (SU_POSTER, "random tickets table", "cifar100", "resnet32", 74.57, ""),
    ("Karolinski et al., Deconstructing lottery tickets reproduction (seed 003)", "section 4, text", "mnist",
     "lenet300_100", 98.0, "approximate: 'about 98%' with all weights retained"),
]


def _rows(table: dict, source: str, name: str) -> list[dict]:
    rows = []
    for (dataset, model, method), cells in table.items():
        for sparsity, cell in zip(SPARSITIES, cells):
            mean, _, std = cell.partition("±")
            rows.append({"source": source, "table": name, "dataset": dataset, "model": model, "method": method,
                         "sparsity": sparsity, "accuracy": float(mean), "std": float(std) if std else None})
    return rows


def published() -> pd.DataFrame:
    """Every published sparse-network number held so far."""
    rows = (_rows(_RT_001, SU_POSTER, "random tickets table")
            + _rows(_PT_SANITY_001, SU_POSTER, "sanity checks on partially-trained tickets")
            + _rows(_HYBRID_001, SU_POSTER, "hybrid tickets table")
            + _rows(_TABLE1_000, SU_REPRO, "Table 1")
            + _rows(_TABLE2_000, SU_REPRO, "Table 2"))
    return pd.DataFrame(rows)


def full_networks() -> pd.DataFrame:
    """Published accuracy of the dense (unpruned) networks."""
    return pd.DataFrame([{"source": s, "table": t, "dataset": d, "model": m, "method": "dense", "sparsity": 0.0,
                          "accuracy": a, "std": None, "note": n} for s, t, d, m, a, n in _FULL])


LT_SEED = "Havinga & Sawhney, analysis of Frankle & Carbin and Liu et al. (seed 002)"
# 002 Table 1 (Li et al.'s Table 1): CIFAR-10 test error (%), model -> (unpruned, pruned + fine-tuned, scratch-train)
_LI_TABLE1 = {"vgg16_a": (6.75, 6.60, 6.88), "resnet56_a": (6.96, 6.90, None), "resnet56_b": (6.96, 6.94, 8.69),
              "resnet110_a": (6.47, 6.45, None), "resnet110_b": (6.47, 6.70, 7.06)}
# 002 Table 2 (Liu et al.'s Table 11), one-shot pruning on CIFAR-10: (lr, model) -> unpruned "mean±sd" and, per
# prune ratio 20/40/60/80/95%, (winning ticket, random init). The caption says "test errors"; the values are
# accuracies (%), as in Liu et al.'s table.
_LIU_TABLE11 = {
    (0.1, "vgg16"): ("93.76±0.20", [("93.66±0.20", "93.79±0.11"), ("93.79±0.12", "93.77±0.10"),
                                    ("93.60±0.13", "93.72±0.11"), ("93.74±0.15", "93.72±0.16"),
                                    ("93.18±0.12", "93.05±0.21")]),
    (0.1, "resnet50"): ("93.48±0.20", [("93.38±0.18", "93.31±0.24"), ("92.94±0.12", "93.06±0.22"),
                                       ("92.56±0.20", "92.69±0.22"), ("91.83±0.20", "91.69±0.22"),
                                       ("88.75±0.18", "88.59±0.09")]),
    (0.01, "vgg16"): ("92.69±0.12", [("92.78±0.11", "92.52±0.15"), ("92.80±0.18", "92.52±0.15"),
                                     ("92.72±0.16", "92.44±0.19"), ("92.75±0.07", "92.07±0.25"),
                                     ("92.58±0.25", "91.83±0.11")]),
    (0.01, "resnet50"): ("91.06±0.28", [("91.28±0.15", "90.93±0.34"), ("91.16±0.07", "90.92±0.10"),
                                        ("91.00±0.15", "90.43±0.16"), ("90.92±0.08", "89.71±0.18"),
                                        ("87.76±0.19", "87.20±0.17")]),
}
LIU_RATIOS = (0.2, 0.4, 0.6, 0.8, 0.95)


def _mean_sd(cell: str) -> tuple[float, float | None]:
    mean, _, std = cell.partition("±")
    return float(mean), float(std) if std else None


def li_structured() -> pd.DataFrame:
    """002 Table 1: test error (%) of the unpruned, filter-pruned + fine-tuned and scratch-trained networks."""
    rows = []
    for plan, values in _LI_TABLE1.items():
        for arm, err in zip(("unpruned", "finetuned", "scratch"), values):
            if err is not None:
                rows.append({"source": LT_SEED, "table": "Table 1", "dataset": "cifar10", "plan": plan, "arm": arm,
                             "error": err})
    return pd.DataFrame(rows)


def liu_lottery() -> pd.DataFrame:
    """002 Table 2: accuracy (%) of winning tickets and random inits after one-shot pruning, per lr and ratio
    (the unpruned network as ratio 0, arm "unpruned")."""
    rows = []
    for (lr, model), (unpruned, cells) in _LIU_TABLE11.items():
        mean, sd = _mean_sd(unpruned)
        rows.append({"lr": lr, "model": model, "ratio": 0.0, "arm": "unpruned", "accuracy": mean, "std": sd})
        for ratio, (ticket, rand) in zip(LIU_RATIOS, cells):
            for arm, cell in (("ticket", ticket), ("random_init", rand)):
                mean, sd = _mean_sd(cell)
                rows.append({"lr": lr, "model": model, "ratio": ratio, "arm": arm, "accuracy": mean, "std": sd})
    return pd.DataFrame(rows).assign(source=LT_SEED, table="Table 2", dataset="cifar10")


# Our model names for the seeds' architectures: Su et al.'s ResNet32 is the 2x-wide variant.
MODEL_ALIASES: dict[str, str] = {"resnet32_2x": "resnet32", "vgg19": "vgg19", "lenet300_100": "lenet300_100"}


def published_effect(pub: pd.DataFrame, dataset: str, model: str, sparsity: float, test: str,
                     base: str | tuple[str, ...]) -> tuple[float, float]:
    """(effect, sd) of one published table: accuracy of `test` minus that of `base` (the better by mean when
    several are named) at one cell; sd = sqrt(sd_test^2 + sd_base^2) where the table gives both, else nan.
    (nan, nan) where the table lacks either row."""
    sel = pub[(pub["dataset"] == dataset) & (pub["model"] == MODEL_ALIASES.get(model, model))
              & ((pub["sparsity"] - sparsity).abs() < 1e-9)].set_index("method")
    bases = [b for b in ((base,) if isinstance(base, str) else base) if b in sel.index]
    if test not in sel.index or not bases:
        return float("nan"), float("nan")
    b = max(bases, key=lambda m: sel.loc[m, "accuracy"])
    t, r = sel.loc[test], sel.loc[b]
    sd = (t["std"] ** 2 + r["std"] ** 2) ** 0.5 if pd.notna(t["std"]) and pd.notna(r["std"]) else float("nan")
    return float(t["accuracy"] - r["accuracy"]), float(sd)
