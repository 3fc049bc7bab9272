"""The dashboard reads the store only: counts, partial scale, verdicts and not-run claims."""
from ticketkit import dashboard, imp
from ticketkit.experiments import su
from ticketkit.profiles import get_profile
from ticketkit.store import Store


def fake_record(cfg, acc):
    return {"config": cfg.to_dict(), "key": cfg.key(), "history": [{"epoch": 1, "test_acc": acc}],
            "final_test_acc": acc, "best_test_acc": acc + 1, "density": cfg.density, "layer_densities": {},
            "collapsed_layers": [], "connected": True, "prune": {"wall_s": 1.0}, "wall_s": 3600.0, "device": "cpu"}


def test_dashboard_counts_partial_grids_and_marks_untested_claims():
    P = get_profile("smoke")
    store = Store()
    cfgs = su.random_tickets(P)
    for c in cfgs[:10]:
        store.put(c, fake_record(c, 50.0 + c.seed))
    board = dashboard.table(P).set_index("claim")
    assert board.loc["SU-3", "runs stored"] == f"10/{len(cfgs)}"
    assert "partial: 10 of" in board.loc["SU-3", "scale"]
    # smoke trains 2 epochs: no final learning-rate phase to compare best and last epoch in
    assert board.loc["SU-7", "verdict"] == "not testable at this scale"
    assert "0.5 epochs after the last learning-rate decay" in board.loc["SU-7", "cells"]
    assert board.loc["SU-3", "verdict"] == "inconclusive"  # one seed per cell so far: no interval to decide on
    assert board.loc["SU-4", "verdict"] == "not run" and board.loc["LT-1", "verdict"] == "not run"
    assert list(dashboard.findings(P, "SU-")["claim"]) == [f"SU-{i}" for i in range(1, 8)]
    assert board.loc["LT-8", "verdict"] == "not run" and len(board) == 31
    note = dashboard.cost_note(P)
    assert "10 are stored" in note and "sum to 10.0 hours" in note
    chapter = list(dict.fromkeys(c for g in su.NOTEBOOK_GRIDS.values() for c in g(P)))
    kinds = {(c.model, c.method) for c in cfgs[:10]}  # the stored runs' kinds, one hour each
    for model, method in kinds:
        stored = sum((c.model, c.method) == (model, method) for c in cfgs[:10])
        total = sum((c.model, c.method) == (model, method) for c in chapter)
        assert f"3600 s for {model} / {method} ({stored} of {total} stored)" in note
    timed_runs = sum((c.model, c.method) in kinds for c in chapter)  # projected at one hour each
    assert f"about {timed_runs:.1f} hours" in note and "resnet32_2x / lottery" in note.split("not timed yet")[0]


def test_the_cost_note_adds_the_imp_levels_a_grid_trains_without_asking_for_them():
    from ticketkit.experiments import notebook_grids
    from ticketkit.walks import walk_levels

    P = get_profile("smoke")
    store = Store()
    cfgs = list(dict.fromkeys(c for g in notebook_grids("gems").values() for c in g(P)[0]))
    deep = max((c for c in cfgs if c.method == "imp"), key=lambda c: dict(c.options)["level"])
    level = dict(deep.options)["level"]
    store.put(deep, fake_record(deep, 60.0))
    behind = [w for w in (imp.level_config(deep, lv) for lv in range(level)) if w not in cfgs]
    assert 0 < len(behind) and set(behind) <= set(walk_levels(cfgs))  # levels below it the grid does not ask for
    for w in behind:
        store.put(w, fake_record(w, 55.0))
    note = dashboard.cost_note(P, "gems")
    assert "1 are stored. Their records sum to 1.0 hours of training" in note
    assert f"({len(behind)} stored) to {len(behind):.1f} hours more" in note


def test_a_claim_spanning_two_pages_gets_one_verdict_from_both_grids_on_either_page_and_the_dashboard():
    P = get_profile("smoke")
    store = Store()
    top = lambda cfgs: [c for c in cfgs if c.density == min(x.density for x in cfgs) and c.model == "vgg19"]  # noqa: E731
    rt = [c for c in top(su.random_tickets(P)) if c.method == "random_tickets"]
    lrr = [c for c in top(su.hybrid(P)) if c.method == "lr_rewinding"]
    for c in rt + lrr:  # random tickets keep a path; LRR tickets stay connected too: against the claim
        store.put(c, fake_record(c, 60.0))
    one_page = su.verdicts(dashboard._stored(rt), P, ("SU-6",))[0]
    other_page = su.verdicts(dashboard._stored(lrr), P, ("SU-6",))[0]
    board = dashboard.table(P).set_index("claim").loc["SU-6"]
    assert one_page.counts() == other_page.counts() == board["cells"] == "held 1, failed 1, inconclusive 0 of 2"
    assert board["runs stored"].startswith(f"{len(rt + lrr)}/")



def test_the_styled_dashboard_escapes_text_but_keeps_its_links_and_line_breaks():
    """A statement like "beats it at <= 1.4%" reaches the page as text, never as markup."""
    import html.parser

    import pandas as pd
    board = pd.DataFrame([{"claim": "X-1", "paper": "p", "statement": "keeps <em>k</em> at <= 1.4% & more",
                           "verdict": "holds", "cells": "", "cells against the claim": "a <i>b</i>; c > d",
                           "notebook": '<a href="x.html">x</a>'}])

    class Parsed(html.parser.HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.data, self.tags = [], []

        def handle_data(self, d):
            self.data.append(d)

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
    p = Parsed()
    p.feed(dashboard.styled(board).to_html())
    text = "".join(p.data)
    assert "keeps <em>k</em> at <= 1.4% & more" in text and "a <i>b</i>" in text and "c > d" in text
    assert "em" not in p.tags and "i" not in p.tags
    assert p.tags.count("a") == 1 and p.tags.count("br") == 1
