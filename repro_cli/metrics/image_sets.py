"""Where images for FID/IS come from: a generator, a folder of image files, or an .npz array.
Everything leaves here as uint8 (real images) or [0, 1] batches quantised to 8 bits (generated)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from repro_cli.errors import DataError
from repro_cli.metrics.inception_features import uint8_to_unit

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


@torch.no_grad()
def generator_batches(G: torch.nn.Module, n: int, batch_size: int, seed: int, device: torch.device,
                      to_uint8: Callable[[torch.Tensor], torch.Tensor]) -> Iterator[torch.Tensor]:
    """n samples of G from its own noise stream (seeded, separate from training's), in [0, 1],
    rounded to 8 bits by the training data's own pixel map (`to_uint8`), as if saved to PNG, so
    generated and real images go through identical preprocessing."""
    rng = torch.Generator(device="cpu").manual_seed(seed)
    for start in range(0, n, batch_size):
        z = torch.randn(min(batch_size, n - start), G.z_dim, generator=rng).to(device)
        yield uint8_to_unit(to_uint8(G(z)))


def is_stats_file(path: Path) -> bool:
    if path.suffix != ".npz" or not path.is_file():
        return False
    with np.load(path, allow_pickle=False) as f:
        return {"mu", "sigma"} <= set(f.files)


def load_images(path: Path) -> torch.Tensor:
    """uint8 N×C×H×W from a folder of image files (sorted by name) or an .npz holding one uint8
    array (N×H×W×C, N×C×H×W or N×H×W)."""
    path = Path(path).expanduser()
    if path.is_dir():
        return _load_folder(path)
    if path.suffix == ".npz" and path.is_file():
        return _load_npz(path)
    raise DataError(f"--images {path}: expected a folder of image files or an .npz of uint8 images (N×H×W×C)")


def _load_folder(path: Path) -> torch.Tensor:
    from PIL import Image

    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{path} holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    arrays = []
    for f in files:
        with Image.open(f) as img:
            arrays.append(np.asarray(img.convert("RGB")))
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise DataError(f"{path}: images have different sizes {sorted(shapes)[:3]}; resize them to one size first")
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def _load_npz(path: Path) -> torch.Tensor:
    with np.load(path, allow_pickle=False) as f:
        arrays = [f[k] for k in f.files if f[k].ndim in (3, 4)]
    if len(arrays) != 1 or arrays[0].dtype != np.uint8:
        raise DataError(f"{path}: expected exactly one uint8 image array (N×H×W×C), found "
                        f"{[(a.shape, str(a.dtype)) for a in arrays] or 'none'}")
    images = torch.from_numpy(arrays[0])
    if images.ndim == 3:
        images = images.unsqueeze(1)
    elif images.shape[-1] in (1, 3) and images.shape[1] not in (1, 3):
        images = images.permute(0, 3, 1, 2)
    return images.contiguous()
