"""The `entitle` command line: one module per command group, mounted in `entitle.cli.main`.

Each command imports what it runs when it runs, so `entitle --help` starts quickly; the
simulator's commands are imported only when one of them is asked for.
"""
