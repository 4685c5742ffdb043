"""``python -m statefulsim.cli``: the same command line as the ``statefulsim`` script."""

from statefulsim.cli import main

if __name__ == "__main__":
    main()
