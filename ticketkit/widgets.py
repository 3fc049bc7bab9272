"""A sparsity slider that works live in JupyterLab and in the static book.

Every position's output is rendered once into an Output widget; a Stack shows one of them and the slider's
*index* is linked to the Stack's selected_index on the JavaScript side (jslink), so no kernel is needed."""
from __future__ import annotations

from typing import Callable, Sequence

import ipywidgets as W
import matplotlib.pyplot as plt


def sparsity_slider(sparsities: Sequence[float], render: Callable[[float], None], description: str = "sparsity",
                    label: Callable[[float], str] = "{:.0%}".format) -> W.VBox:
    """A SelectionSlider over `sparsities` switching between precomputed renderings of `render(s)`."""
    pages = []
    for s in sparsities:
        out = W.Output()
        with out:
            render(s)
            plt.show()
        pages.append(out)
    stack = W.Stack(pages, selected_index=0)
    slider = W.SelectionSlider(options=[(label(s), i) for i, s in enumerate(sparsities)], index=0,
                               description=description, continuous_update=True,
                               layout=W.Layout(width="420px"))
    W.jslink((slider, "index"), (stack, "selected_index"))
    return W.VBox([slider, stack])
