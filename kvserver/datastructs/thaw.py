"""Write-back of packed small collections between event-loop turns.

Small hashes and sorted sets are kept packed in one `bytes` blob, which
is what keeps many small collections within 2x of Redis's memory; but
unpacking and repacking on every command made a pipeline of writes to one
key cost ~1 us a command.  So the first access in a loop turn "thaws" the
blob into the flat tuple it encodes and leaves that tuple in the object
for the commands that follow; `freeze_all`, which the server calls in
before_sleep, packs every thawed object back (or puts the original blob
back when nothing changed).  Freezing never changes what a collection
holds or how it reports its encoding, so it may happen at any moment: a
turn that thaws more than THAWED_MAX objects freezes the earlier ones.

Each entry is (object, original blob, the tuple the blob unpacked to);
the object's `_freeze(blob, t)` decides whether to restore or repack.
"""

THAWED = []
THAWED_MAX = 1024


def thawed(obj, blob: bytes, t: tuple) -> tuple:
    """Register `obj` as holding `t`, unpacked from `blob`; returns `t`."""
    if len(THAWED) >= THAWED_MAX:
        freeze_all()
    THAWED.append((obj, blob, t))
    return t


def freeze_all() -> None:
    if THAWED:
        entries = THAWED[:]
        THAWED.clear()
        for obj, blob, t in entries:
            obj._freeze(blob, t)
