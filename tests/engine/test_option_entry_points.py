"""The new options reach every entry point from their one declaration."""

import pytest

from frameforge.cli import _options, _parser
from frameforge_pipeline.assets.extraction import ExtractionConfig
from frameforge_pipeline.engine.options import DEFAULT_DEDUPE_DISTANCE, ExtractOptions


def cli_options(*flags: str) -> ExtractOptions:
    return _options(_parser().parse_args(["extract", "in.mp4", "-o", "out.zip", *flags]))


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), {"dedupe": None, "mode": "interval", "storyboard": False, "tonemap": "auto"}),
        (("--dedupe",), {"dedupe": DEFAULT_DEDUPE_DISTANCE}),
        (("--dedupe", "3"), {"dedupe": 3}),
        (("--dedupe", "--storyboard"), {"dedupe": DEFAULT_DEDUPE_DISTANCE, "storyboard": True}),
        (("--mode", "scene", "--scene-threshold", "35"), {"mode": "scene", "scene_threshold": 35}),
        (("--tonemap", "none", "--timestamp-names"), {"tonemap": "none", "timestamp_names": True}),
        (("--storyboard-columns", "4", "--storyboard-rows", "3"), {"storyboard_columns": 4}),
    ],
)
def test_cli_flags(flags, expected):
    options = cli_options(*flags)
    assert {name: getattr(options, name) for name in expected} == expected


def test_a_bad_cli_value_is_refused():
    with pytest.raises(SystemExit):
        cli_options("--mode", "scenes")
    with pytest.raises(ValueError, match="dedupe"):
        cli_options("--dedupe", "99")


def test_dagster_run_config_takes_the_new_fields():
    config = ExtractionConfig(mode="scene", dedupe=4, storyboard=True, tonemap="none")
    options = config.to_options()
    assert (options.mode, options.dedupe, options.storyboard, options.tonemap) == (
        "scene", 4, True, "none"
    )  # fmt: skip


def test_the_api_body_takes_camel_case():
    options = ExtractOptions.model_validate(
        {"storyboard": True, "storyboardTileWidth": 96, "timestampNames": True, "dedupe": True}
    )
    assert (options.storyboard_tile_width, options.timestamp_names, options.dedupe) == (
        96, True, DEFAULT_DEDUPE_DISTANCE
    )  # fmt: skip
