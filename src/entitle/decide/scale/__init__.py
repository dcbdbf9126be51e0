"""Whole populations decided in partitions on a Dask cluster (`entitle scale run`).

`partitions` writes a population as Parquet partitions by household and decides one partition;
`cluster` runs every partition on Dask workers and collects the decisions; `gateway` lets each
worker ask the registries itself; the command is `entitle.cli.scale`.
"""
