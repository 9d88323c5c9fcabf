"""Command-line interface: argparse lives here and nowhere else."""
