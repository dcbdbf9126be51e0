"""Tax assessments arriving in the advancing city's truth: the yearly wave from 1 July and the late
assessments until the next 30 June (`advance_rates.wave_share`)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from entitle.registry.advance_draws import days_in_week
from entitle.registry.advance_frames import append
from entitle.registry.advance_rates import wave_share
from entitle.registry.advance_state import City

__all__ = ["assessments"]


def assessments(city: City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    """The week's tax assessments: this year's wave and the previous year's late ones."""
    end = start + timedelta(days=7)
    tax = city.t["truth/tax_assessments.parquet"]
    totals = tax.filter(pl.col("item_code").str.ends_with("7555"))
    for year in (end.year - 2, end.year - 1):
        chance = wave_share(end, year)
        if chance <= 0:
            continue
        before = totals.filter(pl.col("income_year") == year - 1)
        done = set(totals.filter(pl.col("income_year") == year)["person_id"].to_list())
        waiting = before.filter(~pl.col("person_id").is_in(list(done))).unique(
            "person_id", keep="first", maintain_order=True
        )
        draws = rng.random(waiting.height)
        for row, draw in zip(waiting.iter_rows(named=True), draws, strict=True):
            if draw >= chance or row["person_id"] in touched:
                continue
            touched.add(row["person_id"])
            value = int(row["item_value"] * (1.0 + rng.normal(0.02, 0.03)))
            day = days_in_week(rng, start, 1)[0]
            item = {
                "person_id": row["person_id"],
                "income_year": year,
                "tax_year": year + 1,
                "fiscal_status": "A",
                "item_code": "A7555",
                "item_value": max(value, 0),
                "article_number": str(int(rng.integers(100_000_000, 1_000_000_000))),
            }
            tax = append(tax, [item])
            city.event(
                "tax_assessed",
                row["person_id"],
                day,
                rng,
                income_year=year,
                value=item["item_value"],
                detail=item["article_number"],
            )
    city.t["truth/tax_assessments.parquet"] = tax
