"""``python -m serving serve|partners ...``: the serving commands without the main CLI."""

from serving.cli import app

if __name__ == "__main__":
    app()
