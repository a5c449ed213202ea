"""What a process loads when it imports a package, in a new interpreter each time: the API
starts without the decoders (PyAV, OpenCV) and the frame index's libraries (pyarrow, DuckDB),
and a request that needs one imports it then. The import contracts (pyproject.toml,
``lint-imports`` in ``make lint``) keep the imports that would load them out of the graph;
these tests check what Python actually loads."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

HEAVY = ["av", "cv2", "pyarrow", "duckdb"]


def loaded_after(code: str) -> list[str]:
    """Which of ``HEAVY`` are in sys.modules after running ``code`` in a new interpreter."""
    probe = f"{textwrap.dedent(code)}\nimport json, sys\n"
    probe += f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_importing_the_api_app_loads_no_decoder_and_no_index_library():
    assert loaded_after("import frameforge_api.main") == []


def test_reading_the_options_model_loads_no_decoder():
    assert loaded_after("from frameforge_pipeline.engine.options import ExtractOptions") == []
    assert loaded_after("import frameforge_pipeline.engine") == []


def test_a_request_that_needs_one_imports_it_then(tmp_path):
    deleting = f"""
        import frameforge_api.main
        from frameforge_pipeline.gateway import retention
        from frameforge_pipeline.resources import LocalFrameStore
        retention.delete_objects(LocalFrameStore(root={str(tmp_path)!r}), "vid-1", ["vid-1"])
    """
    assert set(loaded_after(deleting)) == {"pyarrow", "duckdb"}
    (tmp_path / "not-a-video").write_bytes(b"plain text, no video")
    checking = f"""
        import frameforge_api.main
        from frameforge_api.services import video_header
        from frameforge_core.errors import Invalid
        from frameforge_pipeline.resources import LocalFrameStore
        try:
            video_header.declared_duration(LocalFrameStore(root={str(tmp_path)!r}), "not-a-video")
        except Invalid:
            pass
    """
    assert "av" in loaded_after(checking)
