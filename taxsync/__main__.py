"""``python -m taxsync`` runs the command-line interface."""

from taxsync.cli import main

if __name__ == "__main__":
    main()
