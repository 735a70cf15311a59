import pytest
import torch
from torch import nn

from repro_cli.errors import ConfigError
from repro_cli.models.sngan_cnn import sngan_cnn_discriminator, sngan_cnn_generator


@pytest.mark.parametrize("size", [32, 48])
def test_shapes_follow_the_image_size(size):
    G = sngan_cnn_generator(out_shape=(3, size, size))
    D = sngan_cnn_discriminator(in_shape=(3, size, size))
    x = G(torch.randn(2, 128))
    assert x.shape == (2, 3, size, size) and x.abs().max() <= 1
    assert D(x).shape == (2,)


def test_discriminator_has_the_papers_seven_convs_and_one_linear_layer():
    D = sngan_cnn_discriminator(in_shape=(3, 32, 32))
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (64, 3, 1), (64, 4, 2), (128, 3, 1), (128, 4, 2), (256, 3, 1), (256, 4, 2), (512, 3, 1)]
    assert sum(isinstance(m, nn.Linear) for m in D.modules()) == 1
    assert all(float(c.bias.abs().max()) == 0 for c in convs)


def test_rejects_non_square_images():
    with pytest.raises(ConfigError, match="divisible by 8"):
        sngan_cnn_discriminator(in_shape=(3, 30, 30))
