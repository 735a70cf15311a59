import torch

from repro_cli.models.sngan_resnet import sngan_resnet_discriminator, sngan_resnet_generator


def test_resnet_shapes_and_global_sum_pooling():
    G = sngan_resnet_generator(out_shape=(3, 32, 32), width=16)
    D = sngan_resnet_discriminator(in_shape=(3, 32, 32), width=8)
    x = G(torch.randn(2, 128))
    assert x.shape == (2, 3, 32, 32)
    assert D(x).shape == (2,)
    # the linear layer sees the spatial sum (not mean) of the last block's ReLU features
    feats = torch.relu(D.blocks(x))
    assert torch.allclose(D(x), D.fc(feats.sum(dim=(2, 3))).squeeze(1))
    assert feats.shape[-1] == 8  # two downsampling blocks: 32 -> 8
