"""Where the synthetic city lies: the municipality's NIS code, postcodes, streets and neighbours.

A `Place` is everything about the city that depends on the municipality; the people, incomes and
grey zones are drawn the same way everywhere. Two places ship: Ghent (the default; NIS 44021)
and Vlasbeke, a fictional Flemish town (see docs/municipalities.md): its NIS code 49901 lies in
arrondissement 49, which does not exist, and its postcodes and streets are invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from entitle.registry.synth_names import (
    GHENT_NIS,
    GHENT_POSTCODES,
    OCMW_ADDRESS,
    OTHER_MUNICIPALITIES,
    street_names,
)


@dataclass(frozen=True)
class Place:
    """A municipality as the synthetic city needs it."""

    key: str  # the municipality's id (municipalities/<key>.yaml)
    nis: str
    name: str  # the Dutch name, as on a letter's address line
    postcodes: tuple[tuple[str, float], ...]  # postcode, share of the population; centre first
    streets: tuple[str, ...]  # fixed order: each postcode owns a block of it
    ocmw_address: tuple[str, str, str]  # postcode, street, number of the OCMW's reference address
    neighbours: tuple[tuple[str, str], ...]  # (NIS, postcode) where a cohabitant may be registered
    default_persons: int

    def street_list(self) -> list[str]:
        """The streets with the OCMW's street added when it is not one of them."""
        streets = list(self.streets)
        if self.ocmw_address[1] not in streets:
            streets.append(self.ocmw_address[1])
        return streets

    @property
    def postcode_list(self) -> list[str]:
        """The place's postcodes, then the neighbours' (the index the addresses use)."""
        return [code for code, _ in self.postcodes] + [pc for _, pc in self.neighbours]

    @property
    def nis_list(self) -> list[str]:
        """The place's NIS code, then the neighbours'."""
        return [self.nis] + [nis for nis, _ in self.neighbours]


GHENT: Final = Place(
    key="ghent",
    nis=GHENT_NIS,
    name="Gent",
    postcodes=GHENT_POSTCODES,
    streets=tuple(street_names()),
    ocmw_address=OCMW_ADDRESS,
    neighbours=OTHER_MUNICIPALITIES,
    default_persons=270_000,
)

# Vlasbeke: invented street names of a small Flemish town by the Leie (written for Entitle).
_VLASBEKE_STREETS: Final = (
    "Markt",
    "Kerkplein",
    "Stationsstraat",
    "Vlasstraat",
    "Beekstraat",
    "Leiedreef",
    "Molenstraat",
    "Kouterstraat",
    "Roterijstraat",
    "Zwingelaarsstraat",
    "Braakstraat",
    "Dorpsstraat",
    "Schoolstraat",
    "Nieuwstraat",
    "Kapelstraat",
    "Pastorijstraat",
    "Gemeenteplein",
    "Brugstraat",
    "Meersstraat",
    "Hoogstraat",
    "Vlasbekestraat",
    "Oude Leiearm",
    "Linnenweversstraat",
    "Spinnerijstraat",
    "Weverslaan",
    "Lijnzaadstraat",
    "Blauwe Bloemlaan",
    "Hekelstraat",
    "Kasteeldreef",
    "Abdijstraat",
    "Sint-Amandusplein",
    "Sint-Martinusstraat",
    "Populierenlaan",
    "Wilgenlaan",
    "Elzenstraat",
    "Beukendreef",
    "Eikenstraat",
    "Lindenlaan",
    "Berkenhof",
    "Esdoornstraat",
    "Meidoornweg",
    "Vlierstraat",
    "Heidestraat",
    "Broekstraat",
    "Veldweg",
    "Akkerstraat",
    "Weidestraat",
    "Hofstraat",
    "Hoevestraat",
    "Boerderijweg",
    "Kruisstraat",
    "Wegelstraat",
    "Oostlaan",
    "Westlaan",
    "Noordlaan",
    "Zuidlaan",
    # Meerbroek, the village that merged into Vlasbeke
    "Meerbroekdorp",
    "Meerbroeksesteenweg",
    "Vijverstraat",
    "Visserslaan",
    "Rietstraat",
    "Kanaalweg",
    "Sluisstraat",
    "Jaagpad",
    "Meersweg",
    "Dijkstraat",
    "Eendenpad",
    "Reigerstraat",
    "Kievitlaan",
    "Leeuwerikstraat",
    "Zwaluwstraat",
    "Merelstraat",
)

VLASBEKE: Final = Place(
    key="vlasbeke",
    nis="49901",
    name="Vlasbeke",
    postcodes=(("9995", 0.7), ("9996", 0.3)),  # Vlasbeke, Meerbroek
    streets=_VLASBEKE_STREETS,
    ocmw_address=("9995", "Kerkplein", "3"),  # the Sociaal Huis
    neighbours=(
        ("44021", "9000"),  # Gent
        ("44083", "9800"),  # Deinze
        ("43005", "9900"),  # Eeklo
        ("11002", "2000"),  # Antwerpen
    ),
    default_persons=20_000,
)

PLACES: Final[dict[str, Place]] = {place.key: place for place in (GHENT, VLASBEKE)}


def place_for(key: str) -> Place:
    """The place of a municipality id; ValueError naming the known ones."""
    try:
        return PLACES[key]
    except KeyError:
        known = ", ".join(sorted(PLACES))
        raise ValueError(f"no synthetic city for municipality {key!r} (known: {known})") from None
