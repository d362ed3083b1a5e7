"""The memory bench's heap probe: glibc's accounting, RSS by mapping and pymalloc's arenas."""

from __future__ import annotations

import gc

import pytest

from poolmon.bench.memory_probe import glibc_figures, heap_probe, smaps_figures


@pytest.mark.skipif(not glibc_figures(), reason="needs glibc's mallinfo2")
def test_the_probe_sees_a_heap_block_and_its_release() -> None:
    before = glibc_figures()["glibc_in_use"]
    blocks = [bytearray(4000) for _ in range(2000)]  # ~8 MiB of heap blocks below 128 KiB
    grown = glibc_figures()["glibc_in_use"] - before
    del blocks
    assert 7 < grown < 10
    assert glibc_figures()["glibc_in_use"] - before < 1


def test_rss_by_mapping_adds_up_and_names_the_parts() -> None:
    probe = heap_probe()
    parts = smaps_figures()
    assert abs(parts["rss"] - sum(v for k, v in parts.items() if k != "rss")) < 0.01
    assert parts["rss_file"] > 1  # the interpreter's own code
    assert probe["pymalloc_arenas"] >= 1
    assert probe["pymalloc_in_use"] > 0


def test_render_objects_counts_live_strips_and_their_caches() -> None:
    from rich.segment import Segment
    from rich.style import Style
    from textual.strip import Strip

    from poolmon.bench.memory_load import render_objects

    # Earlier tests' garbage goes first and no collection runs between the two counts: a
    # collection freeing other strips in between would hide ours.
    gc.collect()
    gc.disable()
    try:
        before = render_objects()
        # Styled: the gc stops tracking a tuple of atoms, so a bare Segment may not be counted.
        bold = Style(bold=True)
        held = [Strip([Segment(f"row {i}", bold), Segment(" ", bold)]) for i in range(500)]
        after = render_objects()
    finally:
        gc.enable()
    assert after["Strip"] - before["Strip"] >= 500
    assert after["Segment"] - before["Segment"] >= 1000
    assert after["FIFOCache"] - before["FIFOCache"] >= 7 * 500  # seven caches per strip
    assert len(held) == 500


def test_arena_figures_split_free_bytes_by_kind_of_arena() -> None:
    from poolmon.bench.memory_probe import arena_figures

    xml = """<malloc version="1">
<heap nr="0"><sizes></sizes><total type="fast" count="2" size="1048576"/>
<total type="rest" count="3" size="2097152"/><system type="current" size="9"/></heap>
<heap nr="1"><total type="fast" count="0" size="0"/>
<total type="rest" count="1" size="524288"/></heap>
<heap nr="2"><total type="fast" count="1" size="524288"/>
<total type="rest" count="0" size="0"/></heap>
<total type="fast" count="3" size="1572864"/><total type="rest" count="4" size="2621440"/>
</malloc>"""
    assert arena_figures(xml) == {"arenas": 3, "glibc_free_main": 3.0, "glibc_free_threads": 1.0}
