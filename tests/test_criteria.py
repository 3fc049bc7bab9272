"""Zhou et al.'s mask criteria against hand computations on a small (w_i, w_f) pair."""
import pytest
import torch

from ticketkit.pruning.criteria import CRITERIA, keep

WI = torch.tensor([0.9, -0.1, 0.5, -0.7, 0.2, 0.4])
WF = torch.tensor([1.0, 0.8, -0.3, -0.2, 0.05, 0.6])
ALL = torch.ones(6, dtype=torch.bool)


def kept(criterion, n, alive=ALL, seed=0):
    return keep(criterion, WI, WF, alive, n, torch.Generator().manual_seed(seed)).nonzero().flatten().tolist()


@pytest.mark.parametrize("criterion, n, want", [
    ("large_final", 2, [0, 1]),            # |w_f| = 1.0, 0.8, 0.3, 0.2, 0.05, 0.6
    ("small_final", 2, [3, 4]),
    ("large_init", 2, [0, 3]),             # |w_i| = 0.9, 0.1, 0.5, 0.7, 0.2, 0.4
    ("small_init", 2, [1, 4]),
    ("magnitude_increase", 2, [1, 5]),     # |w_f| - |w_i| = 0.1, 0.7, -0.2, -0.5, -0.15, 0.2
    ("movement", 2, [1, 2]),               # |w_f - w_i| = 0.1, 0.9, 0.8, 0.5, 0.15, 0.2
    ("large_final_same_sign", 2, [0, 5]),  # signs flip at 1 and 2: scores 1.0, 0, 0, 0.2, 0.05, 0.6
    ("large_final_diff_sign", 2, [1, 2]),  # scores 0, 0.8, 0.3, 0, 0, 0
    ("magnitude_increase_same_sign", 2, [0, 5]),  # 0.1, 0, 0, -0.5, -0.15, 0.2
    ("magnitude_increase_diff_sign", 1, [1]),     # 0, 0.7, -0.2, 0, 0, 0
])
def test_each_criterion_keeps_the_weights_a_hand_computation_keeps(criterion, n, want):
    assert kept(criterion, n) == want


def quadrant_by_bisection(n, large):
    """The original code's way: raise a common percentile until exactly n weights have both magnitudes above
    (below) it; here on distinct values, where a percentile giving exactly n exists."""
    ri = torch.argsort(torch.argsort(WI.abs())).float() / 6  # percentile rank 0..5/6
    rf = torch.argsort(torch.argsort(WF.abs())).float() / 6
    for step in range(0, 7):
        p = step / 6
        inside = (ri >= p) & (rf >= p) if large else (ri <= 1 - p - 1e-9) & (rf <= 1 - p - 1e-9)
        if int(inside.sum()) == n:
            return inside.nonzero().flatten().tolist()
    return None


@pytest.mark.parametrize("large", [True, False])
def test_quadrant_criteria_keep_both_magnitudes_above_or_below_one_percentile_with_exact_counts(large):
    name = "large_init_large_final" if large else "small_init_small_final"
    for n in range(7):
        got = kept(name, n)
        assert len(got) == n
        want = quadrant_by_bisection(n, large)
        if want is not None:  # where one percentile separates exactly n, both ways agree
            assert got == want
    # |w_i| ranks 5,0,3,4,1,2 and |w_f| ranks 5,4,2,1,0,3 (0 = smallest): weight 0 is in both top halves
    assert kept("large_init_large_final", 1) == [0] and kept("small_init_small_final", 1) == [4]


@pytest.mark.parametrize("large", [True, False])
def test_quadrant_criteria_rank_only_the_remaining_weights_in_later_rounds(large):
    """After pruning, the percentiles are those of the remaining weights alone (a pruned weight's w_i is not 0):
    checked against the bisection on the remaining weights as a layer of their own."""
    g = torch.Generator().manual_seed(3)
    wi, wf = torch.randn(400, generator=g), torch.randn(400, generator=g)
    alive = torch.rand(400, generator=g) < 0.3
    wf = torch.where(alive, wf, 0.0)  # pruned weights train at zero; their initial values stay as they were
    name = "large_init_large_final" if large else "small_init_small_final"
    ri, rf = (torch.argsort(torch.argsort(w[alive].abs())).float() for w in (wi, wf))
    m = int(alive.sum())
    for p in range(m + 1):  # the common rank threshold, raised until the count first drops to n
        inside = (ri >= p) & (rf >= p) if large else (ri < m - p) & (rf < m - p)
        n = int(inside.sum())
        got = keep(name, wi, wf, alive, n, torch.Generator().manual_seed(0))
        want = torch.zeros(400, dtype=torch.bool)
        want[alive.nonzero().flatten()[inside]] = True
        assert torch.equal(got, want), (p, n)


def test_pruned_weights_are_never_revived_and_random_ties_follow_the_generator():
    alive = torch.tensor([True, False, True, True, False, True])
    assert kept("large_final", 3, alive) == [0, 2, 5]  # weight 1 (|w_f| 0.8) is pruned already
    picks = {tuple(kept("random", 3, alive, seed)) for seed in range(20)}
    assert len(picks) > 1 and all(set(p) <= {0, 2, 3, 5} and len(p) == 3 for p in picks)
    assert kept("random", 3, alive, 7) == kept("random", 3, alive, 7)
    with pytest.raises(ValueError, match="cannot keep 5 of 4"):
        kept("large_final", 5, alive)


def test_every_criterion_of_the_paper_is_registered():
    assert set(CRITERIA.names()) == {
        "large_final", "small_final", "large_init", "small_init", "large_init_large_final", "small_init_small_final",
        "magnitude_increase", "movement", "random", "large_final_same_sign", "large_final_diff_sign",
        "magnitude_increase_same_sign", "magnitude_increase_diff_sign"}
