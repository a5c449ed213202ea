"""Rendition keys: stable for the same options, different for different ones, and read back
to their video; the partition keys of a video."""

import types
import typing
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from frameforge_core import layout, renditions
from frameforge_core.models import User, Video, VideoJob
from frameforge_pipeline.engine.options import ExtractOptions


def _bounds(name: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for rule in ExtractOptions.model_fields[name].metadata:
        for kind in ("ge", "gt", "le", "lt"):
            if (value := getattr(rule, kind, None)) is not None:
                found[kind] = value
    return found


def _values(name: str, annotation: Any) -> st.SearchStrategy[Any]:
    """Values of one option within its declared range, a few of them often (so that two
    draws often agree), derived from the field so that options added later are covered."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [arg for arg in args if arg is not type(None)]
        return st.none() | st.one_of([_values(name, arg) for arg in inner])
    if typing.get_origin(annotation) is typing.Literal:
        return st.sampled_from(args)
    if annotation is bool:
        return st.booleans()
    bounds = _bounds(name)
    low = bounds.get("ge", bounds.get("gt", 0))
    high = bounds.get("le", bounds.get("lt", 10_000))
    if annotation is int:
        return st.integers(int(low) + ("gt" in bounds), int(high) - ("lt" in bounds))
    if annotation is float:
        return st.sampled_from([low, high, (low + high) / 2]).filter(
            lambda value: "gt" not in bounds or value > low
        ) | st.floats(low, high, exclude_min="gt" in bounds, exclude_max="lt" in bounds)
    return st.nothing()


_FIELDS = {
    name: _values(name, typing.get_type_hints(ExtractOptions)[name])
    for name in ExtractOptions.model_fields
}


@st.composite
def extract_options(draw: st.DrawFn) -> ExtractOptions:
    """Any valid ExtractOptions: each option left out (its default) or drawn in its range."""
    chosen = draw(st.fixed_dictionaries({}, optional=_FIELDS))
    try:
        return ExtractOptions.model_validate(chosen)
    except ValidationError:  # a rule across options (an end before the start)
        assume(False)
        raise


video_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", fullmatch=True)


@given(video_ids, extract_options())
def test_a_rendition_key_is_stable_and_names_its_video(video_id, options):
    key = renditions.rendition_key(video_id, options)
    again = ExtractOptions.model_validate(options.model_dump(by_alias=True))  # as stored, camel
    assert renditions.rendition_key(video_id, again) == key
    assert layout.check_partition_key(key) == key
    assert layout.video_id_of(key) == video_id
    assert key.startswith(f"{video_id}.")
    assert len(key) == len(video_id) + 1 + layout.DIGEST_LENGTH


@given(extract_options(), extract_options())
def test_different_options_are_different_renditions(first, second):
    same_key = renditions.rendition_key("v", first) == renditions.rendition_key("v", second)
    assert same_key == (first == second)


@given(extract_options())
def test_renditions_of_different_videos_differ(options):
    assert renditions.rendition_key("a", options) != renditions.rendition_key("b", options)


def test_defaults_do_not_count_so_added_options_keep_existing_keys():
    """The digests of today's keys are fixed: defaults are left out of them, so an option
    added with a default keeps every rendition made before it where it is."""
    assert renditions.rendition_key("v", ExtractOptions()) == "v.44136fa355b3"  # sha256("{}")
    assert renditions.rendition_key("v", ExtractOptions(fps=1, quality=90)) == "v.44136fa355b3"
    assert renditions.rendition_key("v", ExtractOptions(fps=2)) == "v.2f9df08246ad"
    assert renditions.rendition_key("v", ExtractOptions.model_validate({"fps": 2.0})) == (
        "v.2f9df08246ad"
    )


@pytest.mark.parametrize(
    "key",
    ["", "v.", ".0123456789ab", "v.0123456789AB", "v.0123456789a", "v.0123456789abc", "a.b.c",
     "v/0123456789ab", "v.0123456789ab\n", "v\n", "../v", "x" * 65],
)  # fmt: skip
def test_what_is_not_a_partition_key(key):
    with pytest.raises(ValueError, match="invalid partition key"):
        layout.video_id_of(key)
    with pytest.raises(ValueError, match="invalid partition key"):
        layout.zip_key(key)


@pytest.mark.parametrize(("key", "video_id"), [("abc", "abc"), ("a-b_c.0123456789ab", "a-b_c")])
def test_partition_keys_name_their_video_and_their_store_keys(key, video_id):
    assert layout.video_id_of(key) == video_id
    assert layout.frames_prefix(key) == f"frames/{key}/"
    assert layout.zip_key(key) == f"results/{key}/frames.zip"
    assert layout.manifest_key(key) == f"results/{key}/manifest.json"


def test_partition_keys_of_a_video(database):
    """Every rendition a job of the video used, whatever the job's status; a job not told its
    partition key is keyed by its video, as jobs made before renditions are."""
    with database.session() as session:
        user = User(email="a@example.com", password_hash="-")
        session.add(user)
        session.flush()
        videos = [
            Video(user_id=user.id, filename="c.mp4", content_type="video/mp4",
                  storage_key=f"uploads/{n}/c.mp4", max_bytes=1)
            for n in range(2)
        ]  # fmt: skip
        session.add_all(videos)
        session.flush()
        first, other = videos[0].id, videos[1].id
        session.add_all(
            [
                VideoJob(user_id=user.id, video_id=first, options={}, status="completed"),
                VideoJob(user_id=user.id, video_id=first, options={"fps": 2.0}, status="failed",
                         partition_key=f"{first}.2f9df08246ad"),
                VideoJob(user_id=user.id, video_id=first, options={"fps": 2.0}, status="queued",
                         partition_key=f"{first}.2f9df08246ad"),
                VideoJob(user_id=user.id, video_id=other, options={}, status="queued",
                         partition_key=f"{other}.44136fa355b3"),
            ]
        )  # fmt: skip
        session.commit()
        assert renditions.partition_keys_of_video(session, first) == [
            first,
            f"{first}.2f9df08246ad",
        ]
        assert renditions.partition_keys_of_video(session, other) == [f"{other}.44136fa355b3"]
        assert renditions.partition_keys_of_video(session, "none") == []
