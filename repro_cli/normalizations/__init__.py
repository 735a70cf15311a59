"""Weight normalisations applied to D's layers, registered in `registries.NORMALIZATIONS`.

A normalisation factory takes its recipe parameters and returns a function that modifies a model
in place (and returns it). Each is a `torch.nn.utils.parametrize` parametrization of the layers'
`weight`, so it composes with any module, survives `state_dict` round trips and works under the
double backward of gradient penalties. Modules:

  layers.py         which layers are normalised, and reading their σ for logging
  spectral.py       `sn`, `ssn` (SN·c), `bsn`, `bssn` (BSN·c): σ of one or two matrix reshapings
  strict.py         `strict-sn`: the operator norm of the convolution at the layer's input size
  identity.py       `none`
"""
