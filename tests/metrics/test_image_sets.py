import torch

from repro_cli.data.base import DataContext
from repro_cli.data.mnist import mnist
from repro_cli.metrics.image_sets import generator_batches


class Replay(torch.nn.Module):
    """A 'generator' that returns given model-space images in order, whatever z it gets."""

    z_dim = 3

    def __init__(self, images):
        super().__init__()
        self.images, self.at = images, 0

    def forward(self, z):
        out = self.images[self.at:self.at + z.shape[0]]
        self.at += z.shape[0]
        return out


def test_generated_images_reach_fid_as_the_pixels_they_encode(mnist_root):
    """An MNIST G in the authors' mean-std scaling (no output nonlinearity) whose samples are real
    digits must reach the Inception network as exactly those digits' pixels, not as if its
    output were in [-1, 1]."""
    source = mnist(ctx=DataContext(root=mnist_root, download=False), scaling="mean-std")
    stored = source.samples[:10]
    batches = list(generator_batches(Replay(source.decode(stored)), 10, 4, 0, torch.device("cpu"), source.to_uint8))
    assert [b.shape[0] for b in batches] == [4, 4, 2]
    assert torch.equal(torch.cat(batches), stored.float() / 255)
