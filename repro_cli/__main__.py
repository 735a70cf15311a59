"""`python -m repro_cli` is the same as the `repro` console script (torchrun uses this form)."""

from repro_cli.cli import main

if __name__ == "__main__":
    main()
