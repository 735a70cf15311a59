"""repro: reproduce GAN stabilisation results (0-GP, SN/BSSN) and compare them with the papers."""

__version__ = "0.1.0"
