"""Official EfficientNet rounding of width and depth multipliers (TF reference, timm)."""

import math


def round_filters(filters: int, width: float = 1.0, divisor: int = 8, min_filters: int | None = None) -> int:
    """Scale a channel count by `width` and round to a multiple of `divisor`.

    new = max(min_filters, int(f·w + divisor/2) // divisor · divisor), bumped up by one divisor
    when rounding lost more than 10% (EfficientNet `round_filters`).
    """
    if width == 1.0 and filters % divisor == 0:
        return filters
    scaled = filters * width
    floor = divisor if min_filters is None else min_filters
    new = max(floor, int(scaled + divisor / 2) // divisor * divisor)
    if new < 0.9 * scaled:
        new += divisor
    return int(new)


def round_repeats(repeats: int, depth: float = 1.0) -> int:
    """Scale a stage's layer count by `depth`: ceil(depth · repeats) (EfficientNet `round_repeats`)."""
    if depth == 1.0:
        return repeats
    return int(math.ceil(depth * repeats))
