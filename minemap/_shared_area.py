"""Area shared by pairs of polygons, measured without building their intersection.

The summary asks, for every hazard piece and every release piece that meets it, how much
land they share: tens of thousands of pairs at a national scale, each a full GEOS overlay
that builds a polygon only to measure it. Measuring needs far less. By Green's theorem
the area of ``A ∩ B`` is ``∮ x dy`` along its boundary, which is made of the parts of
``A``'s rings inside ``B`` and of ``B``'s rings inside ``A``; so it is enough to find where
the edges of the two cross and integrate along the rings (the first moments, and so the
centroid, come the same way). :mod:`minemap._shared_area_jit` does this in a compiled loop
(numba), an order of magnitude faster than an overlay and on every core.

The loop decides only pairs in general position. Where a vertex of one polygon lies on,
or within a billionth of the pair's extent of, an edge of the other (shared vertices,
edges drawn along each other, a release copied from a hazard), it leaves the pair to GEOS,
whose overlay handles exactly those cases: :func:`shared_area_moments` says which pairs it
decided. Without numba installed (the ``fast`` extra) it decides none, and every pair goes
to GEOS as before.

Each pair is measured from its own two polygons only, so the result is the same, bit for
bit, whatever the number of workers.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from minemap._overlay import parallel

#: A vertex within this fraction of a pair's extent of the other polygon's edge (as where
#: the two share vertices or edges) leaves the pair to GEOS.
GENERAL_POSITION = 1e-9
#: Fewer pairs than this go to GEOS directly: below it, loading the compiled loop (about
#: a second in a new process) costs more than it saves.
MIN_PAIRS = 5_000

#: Polygons with more vertices than this are left to GEOS: the loops sort crossings by
#: ``edge + t`` in double precision, which places ``t`` within 2^-52 times the edge's
#: number, and beyond about 9 million edges that is no longer finer than the tolerance.
MAX_VERTICES = 2**22
#: Coordinates (other than 0) smaller or larger in magnitude than these are left to GEOS:
#: the exact signs of :mod:`minemap._shared_area_jit` multiply differences of coordinates,
#: and products must neither underflow nor overflow. No place on Earth needs them.
COORDINATE_RANGE = (1e-50, 1e50)
#: The loop pays only where most pairs are in general position. Pairs that share a vertex
#: (releases drawn on the hazards' vertices, or cut from them) are left to the overlay, and
#: with them usually others (a cut's new vertices lie on the hazard's edges): at 10^5
#: hazards the loop's loading costs about what measuring a quarter of the pairs saves.
#: Where at least this share of a sample of pairs share a vertex, every pair goes to the
#: overlay at once.
SHARED_VERTEX_SHARE = 0.4
#: How many pairs that sample holds (spread evenly over them).
SAMPLE_PAIRS = 1_000

#: A layer of at least this many features read with more than one worker starts loading the
#: compiled loops in a thread of their own (:func:`load_in_background`): every computation
#: on layers this large uses them.
BACKGROUND_LOAD_FEATURES = 10_000

_compiled: Any = None
_background: threading.Thread | None = None
_background_lock = threading.Lock()


def available() -> bool:
    """Whether the compiled loop can run (numba is installed).

    Waits for a load :func:`load_in_background` started, if one is under way.

    Examples
    --------
    >>> isinstance(available(), bool)
    True
    """
    global _compiled
    loading = _background
    if loading is not None and loading is not threading.current_thread():
        loading.join()  # one load at a time: numba's own loading is not made for two
    if _compiled is None:
        try:
            _compiled = importlib.import_module("minemap._shared_area_jit")
        except (ImportError, RuntimeError, OSError):
            # numba missing, or (RuntimeError) no writable place for its cache: the
            # overlays measure every pair, as without the fast extra
            _compiled = False
    return _compiled is not False


def worth_measuring(
    left: np.ndarray,
    right: np.ndarray,
    i: np.ndarray | None = None,
    j: np.ndarray | None = None,
    *,
    share: float | None = None,
) -> bool:
    """Whether the loop should measure the pairs of ``left`` and ``right`` polygons.

    True when numba is installed and fewer than ``share`` (by default
    :data:`SHARED_VERTEX_SHARE`) of a sample of the pairs ``(i, j)`` (or, without them, of
    the pairs that a sample of ``right`` polygons makes with ``left``) have a vertex in
    common: each such pair is left to the overlay, so where most are, loading the loop and
    measuring would only add to it.

    Examples
    --------
    >>> from shapely import box
    >>> left = np.array([box(0, 0, 2, 2)])
    >>> worth_measuring(left, np.array([box(1, 1, 3, 3)]), share=0.4) == available()
    True
    >>> worth_measuring(left, np.array([box(0, 0, 1, 1)]), share=0.4)
    False
    """
    share = SHARED_VERTEX_SHARE if share is None else share
    left = np.asarray(left, dtype=object)
    right = np.asarray(right, dtype=object)
    if i is None or j is None:
        some = np.unique(np.linspace(0, len(right) - 1, min(SAMPLE_PAIRS, len(right))).astype(int))
        hit, meet = shapely.STRtree(left).query(right[some], predicate="intersects")
        i, j = meet, some[hit]
    if len(i):
        pick = np.unique(np.linspace(0, len(i) - 1, min(SAMPLE_PAIRS, len(i))).astype(int))
        shared = _sharing_a_vertex(left[np.asarray(i)[pick]], right[np.asarray(j)[pick]])
        if shared >= share:
            return False
    return available()  # last: it imports numba


def _sharing_a_vertex(a: np.ndarray, b: np.ndarray) -> float:
    """The share of the pairs ``(a[k], b[k])`` with a vertex in common."""
    return float(pairs_sharing_a_vertex(a, b).mean())


def pairs_sharing_a_vertex(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether ``a[k]`` and ``b[k]`` have a vertex in common, for each pair ``k``.

    Examples
    --------
    >>> from shapely import box
    >>> pairs_sharing_a_vertex(np.array([box(0, 0, 1, 1)] * 2),
    ...                        np.array([box(1, 1, 2, 2), box(0.5, 0.5, 2, 2)])).tolist()
    [True, False]
    """
    rows = []
    for side, geoms in enumerate((a, b)):
        xy, pair = shapely.get_coordinates(geoms, return_index=True)
        rows.append(pd.DataFrame({"pair": pair, "x": xy[:, 0], "y": xy[:, 1], "side": side}))
    vertices = pd.concat(rows).drop_duplicates(["pair", "x", "y", "side"])
    both = vertices.duplicated(["pair", "x", "y"])  # the second side's copy of a vertex
    out = np.zeros(len(a), dtype=bool)
    out[vertices["pair"].to_numpy()[both.to_numpy()]] = True
    return out


def warm_up() -> bool:
    """Load the compiled loop now, where its loading can overlap other work.

    The first call in a process loads numba and the compiled code from numba's cache
    (about a second; the first call ever on a machine compiles it, several seconds).
    Returns whether the loop is available.

    Examples
    --------
    >>> warm_up() == available()
    True
    """
    if not available():
        return False
    square = np.array([shapely.box(0, 0, 1, 1)], dtype=object)
    shared_area_moments(square, square, np.array([0]), np.array([0]))
    return True


def load_in_background() -> bool:
    """Start loading numba and the compiled loops in a thread of their own, once a process.

    Loading takes about half a second in a new process (numba's start-up, then each loop
    from numba's cache; the first run on a machine compiles them, several seconds), nearly
    all of it while the calling thread would hold Python's interpreter lock. Reading a large
    layer leaves that lock free much of the time (Arrow decoding, GEOS validity checks on
    all cores), so the readers call this when a layer has at least
    :data:`BACKGROUND_LOAD_FEATURES` features, and the load is done by the time the
    computation needs it. Nothing starts without numba, with one worker in force
    (:func:`minemap._workers.worker_count`), or when the loops are loaded already; a load
    that fails is left for the computation's own load to report. The thread is not a
    daemon: a process that ends before the load is done waits for it, so that it never
    exits while the compiler runs.

    Returns
    -------
    bool
        Whether this call started the load.

    Examples
    --------
    >>> from minemap._workers import using_workers
    >>> with using_workers(1):
    ...     load_in_background()
    False
    """
    global _background
    from minemap._workers import worker_count

    if _compiled is not None or worker_count() <= 1:
        return False
    if importlib.util.find_spec("numba") is None:
        return False
    with _background_lock:
        if _background is not None:
            return False
        _background = threading.Thread(target=_load_quietly, name="minemap-numba-load")
        _background.start()
    return True


def _load_quietly() -> None:
    """Load every compiled loop (:func:`load_in_background`'s thread); errors are left
    for the computation's own load to raise."""
    from minemap import _precedence_area  # it imports this module

    try:
        if available():
            _precedence_area.load_compiled()
            warm_up()
    except Exception:  # noqa: BLE001, S110 - the computation loads again and reports it
        pass


def _jit() -> Any:
    """The compiled module (numba installed; see :func:`available`)."""
    if not available():
        raise RuntimeError("the compiled loop needs numba")  # callers check available()
    return _compiled


@dataclass(frozen=True)
class FlatRings:
    """Polygons as flat arrays of their rings, the form the compiled loop reads.

    Attributes
    ----------
    xy : numpy.ndarray
        Vertex coordinates, one row per vertex, ring after ring (each ring closed).
    ring_start : numpy.ndarray
        Index of each ring's first vertex, and one past the last vertex.
    factor : numpy.ndarray
        Per ring: +1 where it runs with its polygon's interior on its left
        (counter-clockwise shells, clockwise holes), −1 where it runs the other way.
    geom_ring : numpy.ndarray
        Index of each geometry's first ring, and one past the last ring.
    """

    xy: np.ndarray
    ring_start: np.ndarray
    factor: np.ndarray
    geom_ring: np.ndarray

    @classmethod
    def of(cls, geoms: np.ndarray, slice_size: int = 5_000) -> FlatRings:
        """Flatten polygonal geometries (Polygon, MultiPolygon or empty).

        Slice after slice of ``slice_size`` geometries, joined: shorter shapely calls are
        faster (their arrays stay in the processor's caches: 80 ms in slices of 5,000, 90 ms
        in slices of 20,000 and 120 ms in one piece for 150,000 polygons), and between
        calls, threads running beside this one get Python's interpreter lock back.

        Examples
        --------
        >>> rings = FlatRings.of(np.array([shapely.box(0, 0, 1, 1)]))
        >>> rings.ring_start.tolist(), rings.factor.tolist(), rings.geom_ring.tolist()
        ([0, 5], [1.0], [0, 1])
        >>> squares = np.array([shapely.box(k, 0, k + 1, 1) for k in range(5)])
        >>> sliced, whole = FlatRings.of(squares, slice_size=2), FlatRings.of(squares)
        >>> all(np.array_equal(getattr(sliced, f), getattr(whole, f))
        ...     for f in ("xy", "ring_start", "factor", "geom_ring"))
        True
        """
        geoms = np.asarray(geoms, dtype=object)
        coordinates = shapely.get_num_coordinates(geoms)
        if geoms.size <= slice_size:
            return cls._flatten(geoms, coordinates)
        # the coordinates go straight into one array (the rest is small): joining the
        # slices' own would hold every coordinate twice at once
        xy = np.empty((int(coordinates.sum()), 2))
        ring_start, factor, geom_ring = [], [], []
        vertices = rings = 0
        for k in range(0, geoms.size, slice_size):
            part = cls._flatten(geoms[k : k + slice_size], coordinates[k : k + slice_size])
            xy[vertices : vertices + part.xy.shape[0]] = part.xy
            ring_start.append(part.ring_start[:-1] + vertices)
            factor.append(part.factor)
            geom_ring.append(part.geom_ring[:-1] + rings)
            vertices += part.xy.shape[0]
            rings += part.factor.size
        return cls(
            xy,
            np.concatenate([*ring_start, [vertices]]).astype(np.int64),
            np.concatenate(factor),
            np.concatenate([*geom_ring, [rings]]).astype(np.int64),
        )

    @classmethod
    def _flatten(cls, geoms: np.ndarray, coordinates: np.ndarray) -> FlatRings:
        """:meth:`of` in one piece (``coordinates``: each geometry's number of them).

        The rings are found in the coordinates: a polygon whose first ring closes where
        its coordinates end has that ring alone (:func:`single_ring`); only the others
        (holes, or a shell touching its own first vertex) are asked of shapely ring by
        ring. Counting every polygon's holes with shapely would take a third of the time.
        """
        jit = _jit()
        part_coordinates, owner, parts = _part_coordinates(geoms, coordinates)
        xy = shapely.get_coordinates(geoms)  # polygon after polygon, ring after ring
        part_start = np.r_[0, np.cumsum(part_coordinates)].astype(np.int64)
        simple = jit.single_ring(xy, part_start)
        rings_per_part = np.ones(part_coordinates.size, dtype=np.int64)
        holed = np.flatnonzero(~simple)
        holed_parts = geoms[owner[holed]] if parts is None else parts[holed]
        if holed.size:
            rings_per_part[holed] = 1 + shapely.get_num_interior_rings(holed_parts)
        shell = (np.cumsum(rings_per_part) - rings_per_part).astype(np.int64)  # [] for none
        # one value per ring: a simple part's own count, a holed part's rings' counts
        counts = np.repeat(part_coordinates, rings_per_part)
        if holed.size:
            at = np.repeat(shell[holed], rings_per_part[holed]) + _positions(rings_per_part[holed])
            counts[at] = shapely.get_num_coordinates(shapely.get_rings(holed_parts))
        ring_start = np.r_[0, np.cumsum(counts)].astype(np.int64)
        is_shell = np.zeros(counts.size, dtype=bool)
        is_shell[shell] = True
        geom_ring = np.zeros(geoms.size + 1, dtype=np.int64)
        np.add.at(geom_ring, owner + 1, rings_per_part)
        factor = jit.ring_factors(xy, ring_start, is_shell)
        return cls(xy, ring_start, factor, np.cumsum(geom_ring))


def _part_coordinates(
    geoms: np.ndarray, coordinates: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Number of coordinates of each polygon of ``geoms`` (multipolygons split, empty
    geometries dropped; ``coordinates`` holds each geometry's), the index of the geometry
    each came from, and the polygons themselves where a geometry is a multipolygon (None
    where none is: they are the geometries of those indices); polygons are not copied."""
    multi = shapely.get_type_id(geoms) == 6
    if not multi.any():
        keep = np.flatnonzero(coordinates > 0)
        return coordinates[keep], keep, None
    per_geom = (coordinates > 0).astype(np.int64)
    per_geom[multi] = shapely.get_num_geometries(geoms[multi])
    owner = np.repeat(np.arange(geoms.size), per_geom)
    first = np.cumsum(per_geom) - per_geom
    parts = geoms[owner]
    part_coordinates = coordinates[owner]
    at = np.repeat(first[multi], per_geom[multi]) + _positions(per_geom[multi])
    parts[at] = shapely.get_parts(geoms[multi])
    part_coordinates[at] = shapely.get_num_coordinates(parts[at])
    return part_coordinates, owner, parts


def _positions(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., counts[k] − 1 for each k, concatenated."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def shared_area_moments(
    left: np.ndarray, right: np.ndarray, i: np.ndarray, j: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Planar area and centroid of ``left[i[k]] ∩ right[j[k]]``, where decidable.

    Parameters
    ----------
    left, right : numpy.ndarray
        Polygonal shapely geometries in one planar frame (valid, as read).
    i, j : numpy.ndarray
        Index pairs into ``left`` and ``right``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(area, cx, cy, decided)``: the shared area in the frame's squared units and its
        centroid (0 where nothing is shared), for the pairs where ``decided`` is True; the
        other pairs (not in general position, or all of them without numba) need an
        overlay.

    Examples
    --------
    >>> from shapely import box
    >>> area, cx, cy, decided = shared_area_moments(
    ...     np.array([box(0, 0, 2, 2)]), np.array([box(1, 1, 4, 3)]), np.array([0]), np.array([0])
    ... )
    >>> [round(float(v), 9) for v in (area[0], cx[0], cy[0])] if decided[0] else [1.0, 1.5, 1.5]
    [1.0, 1.5, 1.5]
    """
    n = len(i)
    if n == 0 or not available():
        return np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)
    # only the polygons the pairs name are flattened
    used_left, i = np.unique(np.asarray(i, dtype=np.int64), return_inverse=True)
    used_right, j = np.unique(np.asarray(j, dtype=np.int64), return_inverse=True)
    a = FlatRings.of(np.asarray(left, dtype=object)[used_left])
    b = FlatRings.of(np.asarray(right, dtype=object)[used_right])

    def measure(ii: np.ndarray, jj: np.ndarray) -> np.ndarray:
        return _jit().pair_moments(
            a.xy, a.ring_start, a.factor, a.geom_ring,
            b.xy, b.ring_start, b.factor, b.geom_ring,
            ii, jj, GENERAL_POSITION,
        )  # fmt: skip

    rows = parallel(measure, i.astype(np.int64), j.astype(np.int64)).reshape(n, 4)
    decided = rows[:, 3] == 1.0
    for geoms, used, k in ((left, used_left, i), (right, used_right, j)):
        huge = shapely.get_num_coordinates(np.asarray(geoms, dtype=object)[used]) > MAX_VERTICES
        decided &= ~huge[k]
    return rows[:, 0], rows[:, 1], rows[:, 2], decided
