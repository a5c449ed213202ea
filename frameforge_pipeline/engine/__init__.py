"""The extraction engine: plain Python (PyAV, OpenCV), no Dagster, shared by every entry point.

Import from the module that holds a name (``engine.options.ExtractOptions``,
``engine.extractor.extract``): this package's own import loads nothing, so reading the
options model (the API does) does not load PyAV or OpenCV. The modules:

- ``options`` (the one declaration of the options), ``sampling`` (the sampling rule's
  arithmetic), ``errors``, ``storyboard_names`` (a storyboard's file names): light;
- ``probe``, ``extractor`` (``extract``: assembles the blocks), ``stream_index``, ``reader``,
  ``selection``, ``clock``, ``output``, ``records``, ``render``, ``limits``: the decoding;
- ``manifest``, ``archive`` (the ZIP), ``scenes`` (PySceneDetect's cut detectors),
  ``tonemap`` (HDR to SDR), ``storyboard`` (sheets + WebVTT), ``picture_stats``;
- ``segments`` (a long video in keyframe-aligned segments, extracted apart and joined as
  one piece: ``plan_segments``, ``extract_segment``, ``join_segments``) and
  ``segment_plan`` (what a segment reads; the one-piece run is its single segment).
"""
