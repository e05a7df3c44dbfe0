"""Point to grid (being written): see spatial.py."""
from dataclasses import dataclass


@dataclass
class Location:
    grid: object | None
    building: object | None
    distance_m: float | None


def locate(longitude: float, latitude: float) -> Location:
    raise NotImplementedError
