"""Training with per-epoch evaluation, schedules, checkpoints for rewinding, and masks kept exactly zero.

Convolutions run in bf16 autocast with channels_last (fp32 master weights) on CUDA, and on CPUs with native
bf16 support (about 2x faster there); TICKETKIT_PRECISION=fp32 turns autocast off. In fp32 the layout stays
NCHW: on AVX2-only CPUs oneDNN's fp32 channels_last backward is slower and can hang or crash (seen with torch
2.15 on an AMD EPYC). The CPU uses every core and is deterministic for a given (init seed, data seed).
"""
from __future__ import annotations

import contextlib
import math
import os
import time
import weakref
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from .data import DataBundle, augment, batches
from .masks import Mask, MaskedParams


@dataclass(frozen=True)
class TrainSpec:
    """Optimiser and schedule; milestones are fractions of `epochs` (the seeds divide lr by 10 at 1/2 and 3/4)."""

    epochs: int = 160
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    schedule: str = "multistep"
    milestones: tuple[float, ...] = (0.5, 0.75)
    gamma: float = 0.1
    warmup_epochs: float = 0.0
    augment: bool = True

    def __post_init__(self) -> None:
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose 'sgd' or 'adam'")
        if self.schedule not in ("multistep", "cosine", "constant"):
            raise ValueError(f"unknown schedule {self.schedule!r}; choose 'multistep', 'cosine' or 'constant'")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be positive, got {self.epochs} and {self.batch_size}")


def lr_at(spec: TrainSpec, epoch: float) -> float:
    """Learning rate at a fractional epoch: linear warm-up, then the schedule."""
    if spec.warmup_epochs and epoch < spec.warmup_epochs:
        return spec.lr * (epoch + 1e-9) / spec.warmup_epochs
    if spec.schedule == "constant":
        return spec.lr
    if spec.schedule == "cosine":
        return 0.5 * spec.lr * (1 + math.cos(math.pi * min(epoch / spec.epochs, 1.0)))
    passed = sum(epoch >= m * spec.epochs for m in spec.milestones)
    return spec.lr * spec.gamma**passed


@dataclass
class TrainResult:
    """Per-epoch history and the checkpoints asked for (state dicts on the CPU, keyed by global step)."""

    history: list[dict[str, float]]
    checkpoints: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    steps_per_epoch: int = 0
    curve: list[dict[str, float]] = field(default_factory=list)  # evaluations every N iterations (eval_every)
    eval_s: float = 0.0  # seconds of the wall time spent evaluating test and validation sets (not training)

    def summary(self) -> dict[str, float | int | None]:
        """Last-epoch and best-epoch test accuracy, and the early-stopping point: the evaluation of minimum
        validation loss, from the every-N-iterations curve when there is one, else from the epochs."""
        last = self.history[-1]
        best = max(self.history, key=lambda h: h["test_acc"])
        out: dict[str, float | int | None] = {
            "final_test_acc": last["test_acc"], "best_test_acc": best["test_acc"], "best_epoch": best["epoch"],
            "early_stop_epoch": None, "early_stop_iteration": None, "early_stop_test_acc": None}
        if self.curve:
            it, acc = early_stop(self.curve)
            out.update(early_stop_epoch=it / max(self.steps_per_epoch, 1), early_stop_iteration=it,
                       early_stop_test_acc=acc)
            return out
        with_val = [h for h in self.history if h.get("val_loss") is not None]
        if with_val:
            es = min(with_val, key=lambda h: h["val_loss"])
            out.update(early_stop_epoch=es["epoch"], early_stop_iteration=int(es["epoch"] * self.steps_per_epoch),
                       early_stop_test_acc=es["test_acc"])
        return out


def early_stop(curve: list[dict[str, float]]) -> tuple[int, float]:
    """(iteration, test accuracy) at the minimum validation loss after training began (the first minimum on
    ties), as Frankle & Carbin compute it after training to the end."""
    trained = [c for c in curve if c["iteration"] > curve[0]["iteration"]] or curve
    point = min(trained, key=lambda c: c["val_loss"])
    return int(point["iteration"]), float(point["test_acc"])


def start_position(start_epoch: int, start_step: int | None, steps_per_epoch: int) -> tuple[int, int]:
    """(epoch to start in, batches of it to skip): training resumes mid-epoch when rewound to an iteration."""
    if start_step is None:
        return start_epoch, 0
    return divmod(start_step, max(steps_per_epoch, 1))


def curve_point(step: int, train_loss: float | None, test: tuple[float, float],
                val: tuple[float, float] | None) -> dict[str, float]:
    """One evaluation of a curve: iteration, mean train loss since the previous point, test and validation."""
    row = {"iteration": step, "train_loss": train_loss, "test_acc": test[0], "test_loss": test[1]}
    if val is not None:
        row["val_acc"], row["val_loss"] = val
    return row


def default_device() -> torch.device:
    """CUDA when present, else the CPU with every core in use, or $TICKETKIT_THREADS threads where that is set (a
    process sharing the cores with others: more threads than cores make each barrier wait on a descheduled one)."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    threads = os.environ.get("TICKETKIT_THREADS") or str(os.cpu_count() or 1)
    if not threads.isdigit() or int(threads) < 1:
        raise ValueError(f"TICKETKIT_THREADS={threads!r} is not a positive whole number of CPU threads: set it to "
                         f"a whole number such as 1, or unset it to use every core")
    torch.set_num_threads(int(threads))
    return torch.device("cpu")


def autocast_enabled(device: torch.device) -> bool:
    """bf16 autocast on CUDA, and on CPUs whose oneDNN has native bf16, unless TICKETKIT_PRECISION=fp32."""
    if os.environ.get("TICKETKIT_PRECISION", "auto") == "fp32":
        return False
    if device.type == "cuda":
        return True
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def mixed_precision(device: torch.device, amp: bool) -> contextlib.AbstractContextManager:  # type: ignore[type-arg]
    """bf16 autocast when `amp`, else nothing at all (a disabled autocast still costs microseconds a step)."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if amp else contextlib.nullcontext()


def cuda_graphs(device: torch.device) -> bool:
    """Whether train() runs the forward and backward as CUDA graphs (TICKETKIT_CUDA_GRAPHS=1 on a GPU): a small
    network's eager step there is bound by launching kernels (bench/step_overhead.py)."""
    flag = os.environ.get("TICKETKIT_CUDA_GRAPHS", "0")
    if flag not in ("0", "1"):
        raise ValueError(f"TICKETKIT_CUDA_GRAPHS={flag!r} is neither 0 nor 1: set it to 1 to replay training steps "
                         "as CUDA graphs on a GPU, or to 0 (or unset it) to train eagerly")
    return device.type == "cuda" and flag == "1"


def precision(device: torch.device) -> str:
    """How training computes on `device`, as each record stores it."""
    base = "bf16 autocast" if autocast_enabled(device) else "fp32"
    return base + ", CUDA graphs" if cuda_graphs(device) else base


def make_optimizer(params: Iterable[torch.Tensor], spec: TrainSpec) -> torch.optim.Optimizer:
    """The spec's optimiser over the given trainable tensors."""
    params = list(params)
    if spec.optimizer == "adam":  # fused: one pass over memory instead of ~10 (3x faster for stacked members)
        return torch.optim.Adam(params, lr=spec.lr, weight_decay=spec.weight_decay, fused=True)
    return torch.optim.SGD(params, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay, fused=True)


def _prep(norm: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, amp: bool) -> torch.Tensor:
    """Normalised batch, channels_last where bf16 autocast runs (see the module note)."""
    x = norm(x)
    return x.contiguous(memory_format=torch.channels_last) if amp and x.dim() == 4 else x


def training_images(data: DataBundle, spec: TrainSpec, device: torch.device
                    ) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
    """(images to draw batches from, what turns a batch into network input): without augmentation the whole
    set is normalised once (4 bytes a pixel; the same numbers per batch), else uint8 batches are augmented, then
    normalised."""
    norm = data.normalizer(device)
    if spec.augment:
        return data.train_x, norm
    stats, x = (data.mean, data.std), data.train_x
    hit = _NORMALISED.get(id(x))
    if hit is None or hit[0]() is not x or hit[1] != stats:  # IMP rounds and batch members reuse one copy
        hit = _NORMALISED[id(x)] = (weakref.ref(x), stats, norm(x))
        weakref.finalize(x, _NORMALISED.pop, id(x), None)
    return hit[2], lambda b: b


_NORMALISED: dict[int, tuple] = {}  # type: ignore[type-arg]  # id(uint8 training images) -> normalised copy


EVAL_BATCH = 500  # images per evaluation batch: 1000 spill the CPU's caches (bench/eval_batch.py: 500 is 1.1-2.4x
# faster per image than 1000 for every model of the cpu profile; smaller batches gain no more)


@torch.no_grad()
def evaluate(model: nn.Module, data: DataBundle, x: torch.Tensor, y: torch.Tensor,
             batch_size: int = EVAL_BATCH) -> tuple[float, float]:
    """(accuracy in %, mean cross-entropy) of `model` on images x (uint8) and labels y, in eval mode; the result
    does not depend on `batch_size` (BatchNorm uses its running statistics)."""
    was_training = model.training
    model.eval()
    correct, loss_sum = 0, 0.0
    amp = autocast_enabled(x.device)
    norm = data.normalizer(x.device)
    for xb, yb in batches(x, y, batch_size):
        with mixed_precision(x.device, amp):
            out = model(_prep(norm, xb, amp))
        loss_sum += float(F.cross_entropy(out.float(), yb, reduction="sum"))
        correct += int((out.argmax(1) == yb).sum())
    model.train(was_training)
    n = max(len(y), 1)
    return 100.0 * correct / n, loss_sum / n


def train(model: nn.Module, data: DataBundle, spec: TrainSpec, *, mask: Mask | None = None, data_seed: int = 0,
          start_epoch: int = 0, start_step: int | None = None, checkpoint_steps: tuple[int, ...] = (),
          eval_every: int = 0, stop_at_val_acc: float | None = None, progress: bool = False,
          desc: str = "train") -> TrainResult:
    """Train `model` in place from `start_epoch` to `spec.epochs`; the schedule starts at `start_epoch`
    (learning-rate rewinding), or at iteration `start_step` when given (rewinding to an iteration). Checkpoints are taken at the global steps asked for (step 0 = before training);
    with `eval_every` > 0 the test and validation sets are also evaluated every that many iterations (the curve),
    and training stops at the first such evaluation whose validation accuracy reaches `stop_at_val_acc` (%)."""
    if stop_at_val_acc is not None and not (eval_every and len(data.val_y)):
        raise ValueError("stop_at_val_acc needs eval_every > 0 and a validation split (val_size > 0)")
    device = next(model.parameters()).device
    amp = autocast_enabled(device)
    source, feed = training_images(data, spec, device)
    if amp:
        model.to(memory_format=torch.channels_last)
    masked = MaskedParams(model, mask) if mask is not None else None
    opt = make_optimizer((p for p in model.parameters() if p.requires_grad), spec)
    forward = torch.compile(model, mode="reduce-overhead") if cuda_graphs(device) else model  # evaluation: eager
    gen = torch.Generator().manual_seed(data_seed)
    n = len(data.train_y)
    bs = min(spec.batch_size, n)
    steps_per_epoch = n // bs
    result = TrainResult([], steps_per_epoch=steps_per_epoch)
    wanted = set(checkpoint_steps)
    start_epoch, skip = start_position(start_epoch, start_step, steps_per_epoch)
    step = start_epoch * steps_per_epoch + skip

    since = [torch.zeros((), device=device), 0]  # train loss summed since the last curve point, and its steps

    def scored(x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        """evaluate(), its seconds counted in result.eval_s."""
        t0 = time.perf_counter()
        out = evaluate(model, data, x, y)
        result.eval_s += time.perf_counter() - t0
        return out

    def maybe_checkpoint() -> None:
        if step in wanted:
            result.checkpoints[step] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        if eval_every and step % eval_every == 0:
            val = scored(data.val_x, data.val_y) if len(data.val_y) else None
            mean = float(since[0]) / since[1] if since[1] else None
            result.curve.append(curve_point(step, mean, scored(data.test_x, data.test_y), val))
            since[0], since[1] = torch.zeros((), device=device), 0

    def reached() -> bool:
        """Whether the evaluation just made (at this step) reached the validation accuracy to stop at."""
        return stop_at_val_acc is not None and bool(result.curve) and result.curve[-1]["iteration"] == step \
            and result.curve[-1]["val_acc"] >= stop_at_val_acc

    maybe_checkpoint()
    epochs = range(start_epoch, spec.epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc=desc, leave=False)
    model.train()
    for epoch in epochs:
        loss_sum = torch.zeros((), device=device)
        for i, (xb, yb) in enumerate(batches(source, data.train_y, bs, gen, shuffle=True, drop_last=True)):
            if epoch == start_epoch and i < skip:
                continue
            lr = lr_at(spec, epoch + i / steps_per_epoch)
            for g in opt.param_groups:
                g["lr"] = lr
            if spec.augment:
                xb = augment(xb, gen)
            with mixed_precision(device, amp):
                out = forward(_prep(feed, xb, amp))
                loss = F.cross_entropy(out.float(), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if masked is not None:
                masked.apply_to_weights()
            loss_sum += loss.detach()
            since[0] += loss.detach()
            since[1] += 1
            step += 1
            maybe_checkpoint()
            if reached():
                break
        done = i + 1 - (skip if epoch == start_epoch else 0)
        row = {"epoch": epoch + 1, "lr": lr_at(spec, epoch), "train_loss": float(loss_sum) / max(done, 1)}
        row["test_acc"], row["test_loss"] = scored(data.test_x, data.test_y)
        if len(data.val_y):
            row["val_acc"], row["val_loss"] = scored(data.val_x, data.val_y)
        result.history.append(row)
        if reached():
            break
    return result
