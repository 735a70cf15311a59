"""Generator and discriminator architectures, registered in `registries.MODELS`.

A model factory takes keyword-only recipe parameters plus one injected shape: `out_shape` (the
data's per-sample shape) for generators, `in_shape` for discriminators. Generators expose `z_dim`
and map z ~ N(0, I) to samples of `out_shape`, and `output_range` (the interval their output
activation confines them to; None when unbounded); discriminators return one raw score per sample
(shape (B,)); losses and penalties apply any sigmoid themselves.
"""
