"""Paired benchmarks of MedIENet against MONAI's reference latent-diffusion pipeline: ``python -m bench``.

See ``python -m bench --help`` and docs/benchmarks.md.
"""
