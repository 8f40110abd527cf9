"""``python -m everyfamily.demo.town OUT [--seed N] [--areas N] [--scale S] [--no-stories]
[--boundaries geojson|gpkg|shp]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from everyfamily.demo.town import TownStories, generate_town


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m everyfamily.demo.town")
    parser.add_argument("out", type=Path, help="folder to write the town into")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--areas", type=int, default=None, help="small areas (default 40-80)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="share of the children to simulate (0.1-1)"
    )
    parser.add_argument("--no-stories", action="store_true", help="plant no story (null world)")
    parser.add_argument(
        "--boundaries",
        choices=("geojson", "gpkg", "shp"),
        default="geojson",
        help="file format of the small-area boundaries",
    )
    args = parser.parse_args(argv)
    stories = TownStories.none() if args.no_stories else TownStories()
    town = generate_town(
        args.out,
        seed=args.seed,
        stories=stories,
        n_areas=args.areas,
        scale=args.scale,
        boundary_format=args.boundaries,
    )
    print(
        f"{town.town_name} (seed {town.seed}): {town.n_areas} areas, {town.n_sites} sites, "
        f"{town.n_children} children -> {town.project_file}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
