"""Recordings of what a monitor receives, without any IO.

The file codec, the tolerant reader, the feed that turns recorded frames into an aggregator's
state, and the replay timeline.

docs/RECORDING.md is the specification. Writing and reading files, the recorder that attaches
to a pool and the replay source the app reads are `poolmon.runtime.recording`.
"""
