"""Mixed-precision switch for MONAI engines: bf16 autocast on CPU, bf16 / fp16 on CUDA.

MONAI's ``SupervisedTrainer(amp=True)`` always enters ``torch.autocast("cuda")`` with a CUDA ``GradScaler``; that is
right for fp16 on CUDA and does nothing on CPU. :class:`MixedPrecision` therefore maps a precision name to

* fp16 on CUDA: ``trainer_amp=True`` + ``amp_kwargs={"dtype": torch.float16}`` (MONAI's own path, with scaler);
* bf16 (CPU or CUDA): ``trainer_amp=False`` and the inferer wrapped in :class:`AutocastInferer` (bf16 needs no
  gradient scaling, and the wrapper works on both device types);
* fp32: nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from monai.inferers import Inferer
from torch.nn.attention import SDPBackend, sdpa_kernel

from monai_medienet.utils import cpu_has_native_bf16, resolve_device

__all__ = ["AutocastInferer", "MixedPrecision"]

_PRECISIONS = ("fp32", "bf16", "fp16", "auto")


def _to_float(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return out.float() if out.is_floating_point() else out
    if isinstance(out, (tuple, list)):
        return type(out)(_to_float(o) for o in out)
    if isinstance(out, dict):
        return {k: _to_float(v) for k, v in out.items()}
    return out


class AutocastInferer(Inferer):
    """Run another inferer (or plain network call) under ``torch.autocast``; floating outputs come back as float32.

    Every other attribute (e.g. ``sample``, ``scale_factor``) is forwarded to the wrapped inferer.

    Args:
        inferer: the wrapped inferer; ``None`` calls ``network(inputs, *args, **kwargs)``.
        device_type: ``"cpu"`` or ``"cuda"``.
        dtype: autocast dtype (``torch.bfloat16`` / ``torch.float16``).
        enabled: ``False`` makes the wrapper a pass-through.
        math_attention: run ``scaled_dot_product_attention`` with PyTorch's math backend (explicit matmul + softmax,
            differentiated by autograd) instead of the fused flash kernel. ``None`` (default): only in training
            forwards (gradients enabled) under bf16 autocast on CPU, where the CPU flash kernel's backward is slow:
            the MedIENet training step of ``python -m bench`` (64 px images, 16 x 16 latents) went from 529 to
            443 ms on an AMX CPU. The math backend holds the ``(L, L)`` attention matrix per head: measured with
            ``python -m bench.attention_memory`` (fp32, batch 16), +36 MiB at 16 x 16 latents, +151 MiB at 32 x 32,
            +1.4 GiB (+26 %) at 64 x 64; for such long token sequences pass ``False``. Sampling and other no-grad
            calls keep the fused kernel.

    Raises:
        ValueError: for fp16 on CPU or an unknown device type.
    """

    def __init__(
        self,
        inferer: Callable | None = None,
        device_type: str = "cpu",
        dtype: torch.dtype = torch.bfloat16,
        enabled: bool = True,
        math_attention: bool | None = None,
    ) -> None:
        if device_type not in ("cpu", "cuda"):
            raise ValueError(f"AutocastInferer: device_type must be 'cpu' or 'cuda', got {device_type!r}.")
        if device_type == "cpu" and dtype == torch.float16 and enabled:
            raise ValueError("AutocastInferer: float16 autocast is not supported on CPU; use bfloat16.")
        self.inferer = inferer
        self.device_type = device_type
        self.dtype = dtype
        self.enabled = enabled
        self.math_attention = math_attention

    def attention_context(self) -> AbstractContextManager:
        """The SDPA backend context of one call (see ``math_attention``)."""
        use = self.math_attention
        if use is None:
            use = (
                self.enabled and self.device_type == "cpu" and self.dtype == torch.bfloat16 and torch.is_grad_enabled()
            )
        return sdpa_kernel([SDPBackend.MATH]) if use else nullcontext()

    def __call__(self, inputs: torch.Tensor, network: Callable, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped inferer under autocast; return float32 outputs."""
        with torch.autocast(self.device_type, dtype=self.dtype, enabled=self.enabled), self.attention_context():
            if self.inferer is None:
                out = network(inputs, *args, **kwargs)
            else:
                out = self.inferer(inputs, network, *args, **kwargs)
        return _to_float(out)

    def __getattr__(self, name: str) -> Any:
        inner = self.__dict__.get("inferer")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)


class MixedPrecision:
    """Precision policy for a device: the ``amp`` / ``amp_kwargs`` for MONAI engines and an inferer wrapper.

    Args:
        precision: ``"fp32"``, ``"bf16"``, ``"fp16"`` or ``"auto"``: on CUDA bf16 when supported, else fp16; on CPU
            bf16 only when the CPU computes it natively (AVX-512 BF16 / AMX, see
            :func:`~monai_medienet.utils.cpu_has_native_bf16`), else fp32 - emulated bf16 is many times slower.
        device: the compute device (``"auto"``/``None`` follows availability).
        math_attention: passed to the :class:`AutocastInferer` of :meth:`wrap` (``None``: SDPA's math backend in CPU
            bf16 training forwards; ``False`` keeps the fused kernel, e.g. for long token sequences).

    Raises:
        ValueError: for an unknown precision or fp16 on CPU.
    """

    def __init__(
        self, precision: str = "auto", device: str | torch.device | None = None, math_attention: bool | None = None
    ) -> None:
        if precision not in _PRECISIONS:
            raise ValueError(f"MixedPrecision: precision must be one of {_PRECISIONS}, got {precision!r}.")
        self.device = resolve_device(device)
        if precision == "auto":
            if self.device.type == "cuda":
                precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
            else:
                precision = "bf16" if cpu_has_native_bf16() else "fp32"
        if precision == "fp16" and self.device.type != "cuda":
            raise ValueError(f"MixedPrecision: fp16 needs CUDA, device is {self.device}; use 'bf16' or 'fp32'.")
        if precision == "bf16" and self.device.type == "cpu" and not cpu_has_native_bf16():
            warnings.warn(
                "MixedPrecision: bf16 was requested but this CPU has no native bf16 (AVX-512 BF16 / AMX); emulated "
                "bf16 is many times slower than fp32 here. Use precision='auto' or 'fp32'.",
                stacklevel=2,
            )
        self.precision = precision
        self.math_attention = math_attention

    @property
    def dtype(self) -> torch.dtype:
        """The compute dtype."""
        return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[self.precision]

    @property
    def trainer_amp(self) -> bool:
        """Value for ``SupervisedTrainer(amp=...)`` (only fp16 uses MONAI's CUDA autocast + GradScaler path)."""
        return self.precision == "fp16"

    @property
    def amp_kwargs(self) -> dict[str, Any]:
        """Value for ``SupervisedTrainer(amp_kwargs=...)``."""
        return {"dtype": torch.float16} if self.precision == "fp16" else {}

    def wrap(self, inferer: Callable | None = None) -> Any:
        """Wrap ``inferer`` in :class:`AutocastInferer` for bf16; return it unchanged otherwise.

        ``None`` is wrapped as a plain network call for bf16 and becomes MONAI's ``SimpleInferer`` otherwise.
        """
        if self.precision == "bf16":
            return AutocastInferer(
                inferer, device_type=self.device.type, dtype=torch.bfloat16, math_attention=self.math_attention
            )
        if inferer is None:
            from monai.inferers import SimpleInferer

            return SimpleInferer()
        return inferer

    def __repr__(self) -> str:
        return f"MixedPrecision(precision={self.precision!r}, device={self.device})"
