"""Recording a pool to a file and replaying it: the writer, the recorder, the replay source.

The file format and everything pure about it is `poolmon.core.recording`; docs/RECORDING.md is
the specification and the user's guide.
"""
