"""Memory given back after large mail: glibc's allocator told to return big blocks to the system.

glibc serves a block larger than its mmap threshold with its own mapping, returned on free, but it
raises that threshold each time such a block is freed, up to 32 MiB. After the first large mail,
the buffers of the next (a 23 MB message parses into several hundred thousand lines and strings of
that size) come from the heap of the worker thread that parses it, and each thread's heap keeps its
high-water mark. A fixed threshold and two heaps keep a process at about one large mail's worth
above its base, however many have passed through (bench/memory.py measures it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
MMAP_THRESHOLD = 128 * 1024
ARENAS = 2


def give_large_blocks_back() -> bool:
    """Set glibc's mmap threshold and heap count for this process; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # another C library (musl, macOS): it manages memory its own way
        return False
    done = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_ARENA_MAX, ARENAS))
    if not done:
        log.warning("could not tune the allocator; memory after large mail may stay high")
    return done
