"""Feature-extraction speed and memory of `repro`'s FID pipeline against pytorch-fid's own code:
`python benchmarks/fid_speed.py [--n 500] [--size 32] [--device cpu] [--weights FILE]`.

Both sides compute the (mu, sigma) of the same folder of PNG images, each in a fresh process:

  pytorch-fid   `pytorch_fid.fid_score.save_fid_stats` (what `python -m pytorch_fid --save-stats`
                runs), batch 50, its DataLoader over the PNG files
  repro         `repro evaluate --images DIR --metrics fid --save-stats` path: images loaded once,
                batches of 100 through the same InceptionV3
  repro cached  the reference-statistics path a second time (cache hit: no Inception pass)

It prints images/s, the ratio repro/pytorch-fid (target: >= 1) and each process's peak resident
memory. Without `--weights` (or $REPRO_INCEPTION_WEIGHTS / the torch hub cache) it writes random
weights of the real architecture: speed does not depend on the weight values.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pytorch_fid(folder: str, weights: str, device: str, out: str, queue) -> None:
    import torch
    from pytorch_fid import fid_score, inception

    state = torch.load(weights, map_location="cpu", weights_only=True)
    start = time.perf_counter()
    with mock.patch.object(inception, "load_state_dict_from_url", lambda *a, **k: state):
        fid_score.save_fid_stats([folder, out], batch_size=50, device=device, dims=2048, num_workers=0)
    queue.put((time.perf_counter() - start, _peak_mb()))


def _repro(folder: str, weights: str, device: str, cached: bool, queue) -> None:
    import torch

    from repro_cli.metrics import inception_weights
    from repro_cli.metrics.image_sets import load_images
    from repro_cli.metrics.inception_features import InceptionFeatures
    from repro_cli.metrics.reference_stats import statistics

    net = InceptionFeatures(inception_weights.verify(Path(weights), "benchmark", allow_unofficial=True), torch.device(device))
    images = load_images(Path(folder))
    if cached:  # fill the cache first; only the second (cached) call is timed
        statistics(images, net, {"reference": "benchmark"})
    start = time.perf_counter()
    statistics(images, net, {"reference": "benchmark"})
    queue.put((time.perf_counter() - start, _peak_mb()))


def _in_process(target, *args) -> tuple[float, float]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _weights(given: str | None, tmp: Path) -> str:
    if given:
        return given
    import torch
    from pytorch_fid import inception

    with mock.patch.object(inception, "load_state_dict_from_url", lambda *a, **k: None), \
            mock.patch.object(torch.nn.Module, "load_state_dict"):
        net = inception.fid_inception_v3()
    path = tmp / "random-inception.pth"
    torch.save(net.state_dict(), path)
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="images (default 500)")
    parser.add_argument("--size", type=int, default=32, help="image side in pixels (default 32, CIFAR)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--weights", default=os.environ.get("REPRO_INCEPTION_WEIGHTS"))
    args = parser.parse_args()
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["REPRO_CACHE_DIR"] = str(tmp / "cache")
        folder = tmp / "images"
        folder.mkdir()
        rng = np.random.default_rng(0)
        for i in range(args.n):
            Image.fromarray(rng.integers(0, 256, (args.size, args.size, 3), dtype=np.uint8)).save(folder / f"{i:06d}.png")
        weights = _weights(args.weights, tmp)
        rows = {
            "pytorch-fid": _in_process(_pytorch_fid, str(folder), weights, args.device, str(tmp / "theirs.npz")),
            "repro": _in_process(_repro, str(folder), weights, args.device, False),
            "repro cached": _in_process(_repro, str(folder), weights, args.device, True),
        }
    base = args.n / rows["pytorch-fid"][0]
    print(f"{args.n} images of {args.size}x{args.size}, device {args.device}")
    print(f"{'':14} {'images/s':>10} {'vs pytorch-fid':>15} {'peak RSS MB':>12}")
    for name, (seconds, peak) in rows.items():
        rate = args.n / seconds
        print(f"{name:14} {rate:10.1f} {rate / base:14.2f}x {peak:12.0f}")


if __name__ == "__main__":
    main()
