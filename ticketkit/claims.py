"""Every claim the report tests, in our words: id, paper, statement, decision rule and the notebook that tests it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    statement: str
    rule: str
    notebook: str  # notebook name under notebooks/ ("" until a chapter tests it)
    also: tuple[str, ...] = ()  # further notebooks whose runs the claim is judged on, with its own page's


SU = "Su et al. 2020 (seeds 000, 001)"
LT = "Frankle & Carbin 2019, Liu et al. 2019 (seed 002)"
DL = "Zhou et al. 2019 (seed 003)"
RG = "Sreenivasan et al. 2022 (seed 004)"

CLAIMS: tuple[Claim, ...] = (
    Claim("SU-1", SU, "SNIP and GraSP tickets do not need real data: pruned on random labels and random pixels, they "
          "train to the same accuracy.", "as good as: per model x sparsity cell, the 95% Welch interval of corrupted "
          "minus original lies above -m (m: the equivalence margin stated on the page); a cell whose original "
          "collapsed to chance decides nothing", "su_initial_sanity"),
    Claim("SU-2", SU, "The exact connections of SNIP and GraSP tickets do not matter: shuffling each layer's mask "
          "keeps the accuracy.", "as good as: the interval of rearranged minus original lies above -m in every "
          "cell (a cell whose original collapsed to chance decides nothing)", "su_initial_sanity"),
    Claim("SU-3", SU, "Random tickets (smart-ratio layer budgets, random positions, no data) match or beat SNIP and "
          "GraSP at 90/95/98% sparsity.", "as good as: the interval of random tickets minus the better (by mean) of "
          "SNIP/GraSP lies above -m in every model x dataset x sparsity cell", "su_random_tickets"),
    Claim("SU-4", SU, "Partially-trained tickets pass the sanity checks: shuffling their kept weights or pruning "
          "from half the data costs accuracy.", "below: the interval of the checked minus the unmodified lottery "
          "ticket lies below zero", "su_partial_sanity"),
    Claim("SU-5", SU, "Hybrid tickets beat learning-rate rewinding at 98% sparsity (where LRR on VGG19 collapses); "
          "at 90/95% the reproduction found them on par or worse.", "above: the interval of hybrid minus LRR lies "
          "above zero at the highest sparsity, per model (the other sparsities are shown, not judged)", "su_hybrid"),
    Claim("SU-6", SU, "At 98% sparsity magnitude and SNIP tickets of VGG19 can lose every path from input to "
          "output (chance accuracy); smart-ratio tickets keep a path.", "on the random-tickets and hybrid grids "
          "together: random tickets never collapse; SNIP, lottery and LRR tickets of VGG19 collapse (zero-density "
          "layer or no path, chance accuracy) in at least one seed", "su_random_tickets", also=("su_hybrid",)),
    Claim("SU-7", SU, "Best-epoch and last-epoch test accuracy differ; the reproduction reports the last epoch.",
          "both recorded for every run; the interval of the best-minus-last gap lies above zero, per method; "
          "testable only with at least 10 epochs after the last learning-rate decay", "su_random_tickets"),
    Claim("LT-1", LT, "Iteratively pruned LeNet-300-100 winning tickets beat the dense network near 51% remaining "
          "and stay at least as good down to about 3.6%.", "test accuracy at early stopping, ticket minus dense, per "
          "IMP level: above zero at the level nearest 51.3% remaining; as good as (above -m) at every other level "
          "down to 3.6%", "lt_lenet_imp"),
    Claim("LT-2", LT, "Winning tickets learn faster: earlier early-stopping iteration than dense down to ~21%.",
          "early-stop iteration (minimum validation loss), ticket minus dense: below zero at every level keeping "
          "20% or more of the weights", "lt_lenet_imp"),
    Claim("LT-3", LT, "Randomly re-initialised tickets learn slower and lose accuracy after little pruning.",
          "re-initialised minus ticket (same mask) at every level between 21% and 51% remaining: test accuracy at "
          "early stopping below zero, and the early-stop iteration above zero", "lt_lenet_imp"),
    Claim("LT-4", LT, "Iterative pruning beats one-shot pruning at small sizes.", "test accuracy at early stopping, "
          "iterative ticket minus one-shot pruning to the same per-layer counts: above zero at every level keeping "
          "under 10% of the weights", "lt_oneshot_vs_iterative"),
    Claim("LT-5", LT, "At learning rate 0.1 the winning ticket's initialisation is no better than random; at 0.01 "
          "it is.", "best test accuracy, winning ticket minus random init of the same one-shot mask, per model and "
          "prune ratio: below +m at lr 0.1 (no better by more than the dense seed-to-seed margin); above zero at "
          "lr 0.01", "lt_liu_lr"),
    Claim("LT-6", LT, "VGG-19 needs warm-up or rewinding to an early iteration to find winning tickets at a high "
          "learning rate.", "last-epoch test accuracy, rewinding to iteration k (and, separately, warm-up) minus "
          "rewinding to init, at lr 0.1: above zero at every level keeping 20% or less of the weights, at each "
          "training length", "lt_vgg_rewinding"),
    Claim("LT-7", LT, "L1-norm filter-pruned VGG-16 / ResNet-56 keep the unpruned accuracy after fine-tuning; the "
          "same small architecture trained from scratch for the same epochs is worse, and with the same compute "
          "it matches.", "last-epoch test accuracy per plan: fine-tuned minus unpruned as good as (above -m); "
          "Scratch-E minus fine-tuned below zero; Scratch-B minus fine-tuned as good as (above -m); m from the "
          "unpruned networks' seed spread", "lt_structured"),
    Claim("LT-8", LT, "Larger networks generalise better: the test error of a 2-layer network falls as the hidden "
          "layer grows, with no overfitting upturn.", "test error of each hidden-layer size minus that of the next "
          "smaller one: below +m at every step from the first size that fits its training set (training error "
          "under 1%; every step when none does)", "lt_network_size"),
    Claim("DL-1", DL, "Mask criteria come in complementary pairs, one above the random criterion and its opposite "
          "below.", "test accuracy at early stopping, each trial's mean over the pruned levels (one curve "
          "above or below the other at most levels; per-level effects shown): large_final, large_init and "
          "large_init_large_final minus random above zero; small_final, small_init and small_init_small_final "
          "minus random below zero", "dl_criteria"),
    Claim("DL-2", DL, "magnitude_increase, movement and large_final are the best criteria and keep the dense "
          "accuracy under strong pruning.", "area under the curve (each trial's mean accuracy at early stopping "
          "over the pruned levels every criterion has): each of the three minus the best of the other criteria above "
          "zero; and at the level nearest 3.6% remaining, each minus the dense network as good as (above -m)", "dl_criteria"),
    Claim("DL-3", DL, "large_final_same_sign matches large_final; large_final_diff_sign collapses.", "each trial's "
          "mean over the pruned levels: same_sign minus large_final within noise (inside ±m), diff_sign minus "
          "large_final below -m; and diff_sign's gap to large_final at the deepest level minus the gap at the "
          "shallowest below zero (it drops as pruning deepens)",
          "dl_signs_large_final"),
    Claim("DL-4", DL, "magnitude_increase_same_sign matches magnitude_increase; the diff_sign variant collapses.",
          "as DL-3: each trial's mean over the pruned levels, same_sign minus magnitude_increase within noise "
          "(inside ±m), diff_sign minus magnitude_increase below -m; and diff_sign's gap widening from the "
          "shallowest to the deepest level", "dl_signs_magnitude_increase"),
    Claim("DL-5", DL, "Supermasks on the untrained network are far above chance.", "test accuracy of the masked, "
          "untrained network from a converged base, each mask at its best pruning level per trial: "
          "large_final_same_sign and magnitude_increase_same_sign (initial weights and signed constants) and the "
          "learned supermask minus random masks (best level alike) above +10 points", "dl_supermasks"),
    Claim("DL-6", DL, "Better-trained base models give better supermasks.", "the same best-level accuracy at "
          "initialisation for the two sign-keeping criteria, the base stopped at 75% validation accuracy and the "
          "converged base each minus the base stopped at 25%, and the converged base minus the 75% one: above zero "
          "(25% against 50% and 50% against 75% shown)", "dl_supermasks"),
    Claim("DL-7", DL, "Keeping initial signs matters for kept weights; freezing pruned weights at zero vs at init "
          "changes the result.", "test accuracy at early stopping of the large_final ticket, each action minus "
          "rewinding (pruned weights zero), each by the trial's mean over the pruned levels: signed constant as good "
          "as (above -m); random reinit and reshuffle below zero; pruned weights frozen at init different from zero "
          "(the interval excludes zero; inside [-m, m] it fails); frozen at "
          "init except those that shrank is shown, not judged", "dl_mask_actions"),
    Claim("RG-1", RG, "Gem-Miner finds accurate subnetworks before any weight training; IMP and smart ratio are "
          "near chance then.", "test accuracy before fine-tuning, per density: Gem-Miner minus smart ratio above "
          "zero; smart ratio and short-cold IMP (at its level for the density) minus chance (100 / classes) "
          "below +5 points (one-sample 95% t-interval)", "rg_pre_finetune"),
    Claim("RG-2", RG, "After finetuning, Gem-Miner matches IMP, beats it at <= 1.4% density, and beats Edge-Popup "
          "and smart ratio.", "last-epoch test accuracy after fine-tuning, per density: Gem-Miner minus short-cold "
          "IMP (fine-tuned, at its level for the density) as good as (above -m, m = 2 x Gem-Miner's pooled "
          "seed sd) above 1.44% kept and above zero at <= 1.44%; Gem-Miner minus Edge-Popup and minus smart ratio "
          "above zero", "rg_post_finetune"),
    Claim("RG-3", RG, "Gem-Miner passes sanity checks: shuffling, reinitialisation and score inversion cost it "
          "accuracy.", "last-epoch test accuracy after fine-tuning, per density: random shuffling, weight "
          "reinitialisation and score inversion, each minus the unmodified Gem-Miner subnetwork, below zero",
          "rg_post_finetune"),
    Claim("RG-4", RG, "Gem-Miner reaches 1.4% density in about 19x fewer epochs than IMP.", "at the density "
          "nearest 1.44%: seconds spent finding the mask per seed (Gem-Miner's search; long-cold IMP's rounds "
          "behind its level), IMP minus Gem-Miner above zero; the configured epoch ratio shown beside Table 1's "
          "19x, not judged, and a training epoch's seconds over a search epoch's with the wall-time ratio Table 1's "
          "epochs would give", "rg_cost"),
    Claim("RG-5", RG, "Edge-Popup subnetworks are not finetunable; global scores and gradual pruning fix most of "
          "that.", "last-epoch test accuracy after fine-tuning at the smallest density: Edge-Popup minus Gem-Miner "
          "below zero, and Edge-Popup's fine-tuning gain (after minus before, per run) minus Gem-Miner's below "
          "zero; global Edge-Popup with gradual pruning, without and with the L2 regulariser, minus the per-seed "
          "midpoint of Edge-Popup and Gem-Miner above zero (more than half the gap closed); global Edge-Popup "
          "alone shown", "rg_ep_variants"),
    Claim("RG-6", RG, "Smarter layer budgets improve random pruning but stay well below Gem-Miner at 1.44%.",
          "last-epoch test accuracy after fine-tuning at the density nearest 1.44%: SR-v2 to SR-v6 each minus "
          "SR-v1 above zero; Gem-Miner minus the best variant above zero",
          "rg_sr_variants"),
    Claim("RG-7", RG, "Gem-Miner and IMP keep the first and last layers denser than smart ratio.", "per density, "
          "the first and the last layer's kept fraction of Gem-Miner and of short-cold IMP minus smart ratio's, "
          "above zero", "rg_layerwise"),
    Claim("RG-8", RG, "Short-cold IMP matches long-warm IMP in the sparse regime; only Gem-Miner is accurate "
          "before finetuning.", "after fine-tuning at <= 1.44% kept: short-cold minus long-warm IMP inside "
          "[-m, m] (m = 2 x Gem-Miner's pooled seed sd; both IMP variants on 5 seeds); before fine-tuning, per density, Gem-Miner minus each "
          "IMP variant above zero", "rg_imp_variants"),
    Claim("RG-9", RG, "Running Gem-Miner longer improves it by about 1.5 points, close to learning-rate "
          "rewinding.", "last-epoch test accuracy "
          "after fine-tuning at the density nearest 1.44%: long Gem-Miner minus Gem-Miner above zero; learning-"
          "rate rewinding minus long Gem-Miner inside [-m, m] (m = 2 x the pooled seed sd of Gem-Miner's short and long "
          "searches; both sides on 5 seeds)", "rg_long_gm"),
)


def claim(cid: str) -> Claim:
    for c in CLAIMS:
        if c.id == cid:
            return c
    raise KeyError(f"unknown claim {cid!r}; known: {', '.join(c.id for c in CLAIMS)}")
