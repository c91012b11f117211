"""An autoencoder round trip as a feature space: compare images at the resolution a latent generator can reproduce."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["ROUND_TRIP_EXACT_TOL", "AutoencoderRoundTrip"]

#: distance at or below which two round trips count as the same image: the same image reconstructs ~1e-5 apart when
#: it sits in another batch (batched convolutions are not bit-identical), far below any near-copy threshold
ROUND_TRIP_EXACT_TOL = 1e-3


class AutoencoderRoundTrip(torch.nn.Module):
    """Images mapped through an autoencoder and back (encoder mean, decoder), flattened: a space for near-copy screens.

    A latent diffusion model can only draw what its autoencoder decodes, so its images carry the autoencoder's blur
    while the real training images do not. Pixel distances then also rank smooth, average images close to a training
    image, and standard Inception features put every blurred image far from all sharp real ones (docs/results.md,
    eighteenth session: on one blurry k = 50 generator the Inception screen flagged none of 1000 images). Passing
    both sides - training, held-out and generated images - through the generator's own autoencoder gives them the
    same blur, and the distance measures what is left: layout, anatomy, intensity. Use it as
    ``NearCopyFilter(..., feature_extractor=AutoencoderRoundTrip(ae))`` or ``build_near_copy_filter(space=
    "autoencoder")``.

    The posterior mean is decoded (no sampling), so the mapping is deterministic.

    Args:
        autoencoder: a MONAI ``AutoencoderKL`` (anything with ``encode(x) -> (z_mu, z_sigma)`` and ``decode(z)``)
            trained on images in the screened range; it is put in eval mode, frozen and not otherwise modified.
        clamp: ``(lo, hi)`` the reconstruction is clamped to (the range the images are written in), or ``None``.
        flatten: return ``(B, C * H * W)`` (what a nearest-neighbour search needs); ``False`` keeps ``(B, C, H, W)``.

    Raises:
        ValueError: when ``autoencoder`` has no ``encode`` / ``decode`` or ``clamp`` is not an increasing pair.

    Example:
        >>> ae = load_autoencoder("runs/chest/checkpoints/diffusion.pt")  # the autoencoder that decoded the pool
        >>> screen = NearCopyFilter(train_images, val_images, feature_extractor=AutoencoderRoundTrip(ae))
    """

    #: what :class:`~monai_medienet.metrics.NearCopyFilter` counts as an exact copy in this space
    exact_tol = ROUND_TRIP_EXACT_TOL

    def __init__(
        self, autoencoder: torch.nn.Module, clamp: Sequence[float] | None = (0.0, 1.0), flatten: bool = True
    ) -> None:
        super().__init__()
        if not (callable(getattr(autoencoder, "encode", None)) and callable(getattr(autoencoder, "decode", None))):
            raise ValueError(
                f"AutoencoderRoundTrip: autoencoder must have encode() and decode(), got {type(autoencoder).__name__}."
            )
        if clamp is not None:
            if len(clamp) != 2 or not float(clamp[0]) < float(clamp[1]):
                raise ValueError(f"AutoencoderRoundTrip: clamp must be (lo, hi) with lo < hi, got {clamp!r}.")
            clamp = (float(clamp[0]), float(clamp[1]))
        self.autoencoder = autoencoder.eval().requires_grad_(False)
        self.clamp = clamp
        self.flatten = bool(flatten)

    def train(self, mode: bool = True) -> AutoencoderRoundTrip:  # noqa: D102 - always inference
        return super().train(False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Reconstruct ``(B, C, H, W)`` images; returns ``(B, C * H * W)`` (or ``(B, C, H, W)``, ``flatten=False``).

        Raises:
            ValueError: see :meth:`reconstruct`.
        """
        recon = self.reconstruct(images)
        return recon.flatten(1) if self.flatten else recon

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` -> their ``(B, C, H, W)`` float32 reconstructions (clamped): what the screen compares.

        Raises:
            ValueError: when the reconstruction's shape differs from the input's (e.g. ``H`` or ``W`` not a multiple
                of the autoencoder's downsampling factor, or a different channel count).
        """
        param = next(self.autoencoder.parameters(), None)
        x = images.to(dtype=param.dtype if param is not None else torch.float32)
        z_mu = self.autoencoder.encode(x)[0]
        recon = self.autoencoder.decode(z_mu)
        if recon.shape != x.shape:
            raise ValueError(
                f"AutoencoderRoundTrip: the autoencoder maps images of shape {tuple(x.shape[1:])} to "
                f"{tuple(recon.shape[1:])}; give images whose size is a multiple of its downsampling factor and "
                "whose channels it was trained on."
            )
        if self.clamp is not None:
            recon = recon.clamp(*self.clamp)
        return recon.float()
