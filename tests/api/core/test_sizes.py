import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frameforge_api.core.sizes import UNITS, size_text


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1023, "1023 bytes"),
        (1024, "1 KiB"),
        (1_000_000, "976.6 KiB"),
        (1536 * 1024, "1.5 MiB"),
        (2 * 2**30, "2 GiB"),  # a limit, as it is set
        (3 * 2**30 + 2**30 // 100, "3.0 GiB"),
        (5 * 2**40, "5 TiB"),
    ],
)
def test_sizes_as_people_read_them(size, text):
    assert size_text(size) == text


@given(st.integers(min_value=0, max_value=2**50))
def test_a_size_text_is_the_size_to_its_last_digit(size):
    number, unit = re.fullmatch(r"(\d+(?:\.\d)?) (bytes|[KMGT]iB)", size_text(size)).groups()
    scale = 1 if unit == "bytes" else 1024 ** (UNITS.index(unit) + 1)
    assert abs(float(number) * scale - size) <= 0.05 * scale
    assert unit == "bytes" or 1 <= float(number) < 1024 or unit == UNITS[-1]
