import torch
from torch import nn

from repro_cli.models.dcgan import dcgan_discriminator, dcgan_generator


def test_reports_dcgan_channels_and_shapes():
    G, D = dcgan_generator(out_shape=(3, 32, 32)), dcgan_discriminator(in_shape=(3, 32, 32))
    assert [m.out_channels for m in G.modules() if isinstance(m, nn.ConvTranspose2d)] == [512, 256, 128, 3]
    assert [m.out_channels for m in D.modules() if isinstance(m, nn.Conv2d)] == [128, 256, 512, 1]
    x = G(torch.randn(3, 100))
    assert x.shape == (3, 3, 32, 32) and D(x).shape == (3,)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in dcgan_discriminator(in_shape=(3, 32, 32), batch_norm=False).modules())
