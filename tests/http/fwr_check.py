#!/usr/bin/env python3
"""Check an http_update flash image against the file the server served.

Independent of the device program: the partition comes from the formula
docs/integration.md gives (FWR_RECORD_AREA_SIZE for 1 KiB blocks and the
whole part, as in fwresume.h), and the record area is parsed from
docs/record-format.md alone. The image passes when

  * both record copies carry a committed header naming this image (size,
    block size, CRC-32 block hash, SHA-256 digest of the served file, and
    the ETag when given),
  * the log (slot-level union of the copies, latest entry wins) holds a
    COMPLETE(N, size) entry after the last VOID,
  * every block has a live BLOCK record whose hash is the CRC-32 of the
    block's bytes on flash,
  * the data area holds the served file byte for byte.

  fwr_check.py FLASH SERVED [--etag ETAG] [--block-size N]
               [--flash-size N]

Exit status 0 when it passes, 1 when it does not (every failure listed).
"""
import argparse
import hashlib
import struct
import sys
import zlib

HDR_MAGIC = 0x48525746
COMMIT_MAGIC = 0xC3A5E15A
FMT_VERSION = 1
HASH_CRC32, HASH_SHA256 = 1, 3
SLOT_BLOCK, SLOT_VOID, SLOT_COMPLETE = 0xB1, 0x70, 0xC3

# The device (docs/integration.md, "The example device").
PROG_SIZE = 1
ERASE_SIZE = 4096
MIN_BLOCK = 1024
CRC_SIZE = 4


def round_up(v, a):
    return (v + a - 1) // a * a


def header_size(ps):
    return round_up(92, ps) + round_up(4, ps)


def slot_size(ps, hs):
    return round_up(16 + hs, ps) + round_up(4, ps)


def record_area_size(ps, es, hs, block_size, image_size):
    """FWR_RECORD_AREA_SIZE, as record-format.md section 3 states it."""
    n = (image_size + block_size - 1) // block_size
    return round_up(header_size(ps) + (n + 16 + n // 4) * slot_size(ps, hs),
                    es)


def layout(flash_size, es=ERASE_SIZE):
    r = record_area_size(PROG_SIZE, es, CRC_SIZE, MIN_BLOCK, flash_size)
    return {"record_addr": 0, "record_size": r, "mirror_addr": r,
            "data_addr": 2 * r, "data_size": flash_size - 2 * r}


def u32(b, off):
    return struct.unpack_from("<I", b, off)[0]


def read_pair(mem, addr, body_len, crc_off, ps):
    """A header or slot: 'valid', 'erased' or 'invalid', and the body."""
    body = bytes(mem[addr:addr + body_len])
    commit = bytes(mem[addr + body_len:addr + body_len + 4])
    if body == b"\xff" * body_len and commit == b"\xff" * 4:
        return "erased", body
    if (u32(commit, 0) == COMMIT_MAGIC and
            u32(body, crc_off) == zlib.crc32(body[:crc_off])):
        return "valid", body
    return "invalid", body


def parse_header(mem, addr, ps=PROG_SIZE):
    state, b = read_pair(mem, addr, round_up(92, ps), 88, ps)
    if state != "valid":
        return {"state": state}
    return {
        "state": state,
        "magic": u32(b, 0), "version": b[4], "block_hash": b[5],
        "digest_kind": b[6], "digest_len": b[7], "version_len": b[8],
        "zero": b[9:12], "size": u32(b, 12), "block_size": u32(b, 16),
        "generation": u32(b, 20), "digest": b[24:56],
        "version_field": b[56:88],
    }


def parse_slot(mem, addr, hs=CRC_SIZE, ps=PROG_SIZE):
    state, b = read_pair(mem, addr, round_up(16 + hs, ps), 12 + hs, ps)
    if state != "valid":
        return {"state": state}
    return {"state": state, "type": b[0], "hs": b[1], "arg0": u32(b, 4),
            "arg1": u32(b, 8), "hash": b[12:12 + hs]}


def expected_version(etag):
    e = etag.encode()
    return e if len(e) <= 32 else hashlib.sha256(e).digest()


def header_problems(h, served, block_size, etag):
    """What does not match the image in a valid header."""
    p = []
    digest = hashlib.sha256(served).digest()
    if h["magic"] != HDR_MAGIC:
        p.append("magic 0x%08x" % h["magic"])
    if h["version"] != FMT_VERSION:
        p.append("format version %d" % h["version"])
    if h["block_hash"] != HASH_CRC32:
        p.append("block hash kind %d, not CRC-32" % h["block_hash"])
    if h["digest_kind"] != HASH_SHA256 or h["digest_len"] != 32:
        p.append("digest kind %d len %d, not SHA-256"
                 % (h["digest_kind"], h["digest_len"]))
    if h["size"] != len(served):
        p.append("image size %d, served %d" % (h["size"], len(served)))
    if block_size and h["block_size"] != block_size:
        p.append("block size %d, expected %d" % (h["block_size"], block_size))
    if h["digest"] != digest:
        p.append("digest %s is not the served file's SHA-256 %s"
                 % (h["digest"].hex(), digest.hex()))
    if h["zero"] != b"\0\0\0":
        p.append("reserved bytes not zero")
    if etag is not None:
        want = expected_version(etag)
        got = h["version_field"][:h["version_len"]]
        if got != want or any(h["version_field"][h["version_len"]:]):
            p.append("version %r, expected the ETag %r" % (got, want))
    return p


def check(flash, served, flash_size=None, block_size=None, etag=None,
          stats=None):
    """Returns (failures, report): lists of strings; no failure: pass.
    stats, a dict, gets the log's entry counts (BLOCK, VOID, COMPLETE)
    and its torn or corrupt primary slots (torn)."""
    fail, rep = [], []
    flash_size = flash_size or len(flash)
    if len(flash) != flash_size:
        return (["flash is %d bytes, expected %d" % (len(flash), flash_size)],
                rep)
    lay = layout(flash_size)
    rep.append("layout: record copies at 0x%x and 0x%x (%d bytes each), "
               "data at 0x%x" % (lay["record_addr"], lay["mirror_addr"],
                                 lay["record_size"], lay["data_addr"]))
    if len(served) > lay["data_size"]:
        return (["served file larger than the data area"], rep)

    copies = []
    for name in ("record_addr", "mirror_addr"):
        h = parse_header(flash, lay[name])
        if h["state"] != "valid":
            fail.append("%s header is %s" % (name.split("_")[0], h["state"]))
            copies.append(None)
            continue
        p = header_problems(h, served, block_size, etag)
        if p:
            fail.append("%s header does not name this image: %s"
                        % (name.split("_")[0], "; ".join(p)))
            copies.append(None)
            continue
        copies.append(h)
    if copies[0] is None and copies[1] is None:
        return (fail, rep)
    gens = [h["generation"] if h else None for h in copies]
    if copies[0] and copies[1] and gens[0] != gens[1]:
        fail.append("record copies at generations %d and %d (a compaction "
                    "left unfinished)" % (gens[0], gens[1]))
    bs = (copies[0] or copies[1])["block_size"]
    nblocks = (len(served) + bs - 1) // bs
    hs_, ss = header_size(PROG_SIZE), slot_size(PROG_SIZE, CRC_SIZE)
    log_slots = (lay["record_size"] - hs_) // ss

    # Forward scan of the slot-level union (record-format.md, section 3).
    live = {}          # block -> hash of its latest live BLOCK record
    complete = None
    counts = {"valid": 0, "invalid": 0, "erased": 0, "from_mirror": 0}
    kinds = {}
    bases = (lay["record_addr"], lay["mirror_addr"])
    use = [c is not None for c in copies]
    if all(use) and gens[0] != gens[1]:
        # The older copy is the whole log (record-format.md, section 6).
        use[0 if gens[0] > gens[1] else 1] = False
    for k in range(log_slots):
        entry = None
        if use[0]:
            s = parse_slot(flash, bases[0] + hs_ + k * ss)
            counts[s["state"]] += 1
            if s["state"] == "valid":
                entry = s
        if entry is None and use[1]:
            s = parse_slot(flash, bases[1] + hs_ + k * ss)
            if s["state"] == "valid":
                entry = s
                counts["from_mirror"] += 1
        if entry is None:
            continue
        t = entry["type"]
        kinds[t] = kinds.get(t, 0) + 1
        if t == SLOT_BLOCK:
            if entry["arg0"] < nblocks:
                live[entry["arg0"]] = entry["hash"]
        elif t == SLOT_VOID:
            for i in range(entry["arg0"], entry["arg0"] + entry["arg1"]):
                live.pop(i, None)
            complete = None
        elif t == SLOT_COMPLETE:
            complete = (entry["arg0"], entry["arg1"])
        else:
            fail.append("slot %d: unknown entry type 0x%02x" % (k, t))
    rep.append("log: %d slots, primary %d valid / %d torn or corrupt / %d "
               "erased, %d served by the mirror; entries: %d BLOCK, %d "
               "VOID, %d COMPLETE"
               % (log_slots, counts["valid"], counts["invalid"],
                  counts["erased"], counts["from_mirror"],
                  kinds.get(SLOT_BLOCK, 0), kinds.get(SLOT_VOID, 0),
                  kinds.get(SLOT_COMPLETE, 0)))

    if stats is not None:
        stats.update({"BLOCK": kinds.get(SLOT_BLOCK, 0),
                      "VOID": kinds.get(SLOT_VOID, 0),
                      "COMPLETE": kinds.get(SLOT_COMPLETE, 0),
                      "torn": counts["invalid"]})
    if complete is None:
        fail.append("no COMPLETE entry after the last VOID: the records "
                    "do not say complete")
    elif complete != (nblocks, len(served)):
        fail.append("COMPLETE(%d, %d) is not this image's (%d, %d)"
                    % (complete[0], complete[1], nblocks, len(served)))

    data = flash[lay["data_addr"]:lay["data_addr"] + len(served)]
    missing = [i for i in range(nblocks) if i not in live]
    if missing:
        fail.append("%d blocks without a live BLOCK record (first: %d)"
                    % (len(missing), missing[0]))
    bad = [i for i, h in live.items()
           if zlib.crc32(data[i * bs:(i + 1) * bs]).to_bytes(4, "big") != h]
    if bad:
        fail.append("%d BLOCK records do not hash the block on flash "
                    "(first: %d)" % (len(bad), min(bad)))
    if data != served:
        first = next(i for i in range(len(served)) if data[i] != served[i])
        ndiff = sum(1 for a, b in zip(data, served) if a != b)
        fail.append("data area differs from the served file: %d bytes, "
                    "first at image offset %d (0x%02x on flash, 0x%02x "
                    "served)" % (ndiff, first, data[first], served[first]))
    else:
        rep.append("data: %d bytes equal the served file" % len(served))
    if not fail:
        rep.append("records: header generation %d names the image "
                   "(SHA-256 %s...), %d live BLOCK records, COMPLETE(%d, %d)"
                   % (gens[0] or gens[1],
                      hashlib.sha256(served).hexdigest()[:16], len(live),
                      nblocks, len(served)))
    return fail, rep


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("flash")
    ap.add_argument("served")
    ap.add_argument("--etag")
    ap.add_argument("--block-size", type=int)
    ap.add_argument("--flash-size", type=int)
    a = ap.parse_args(argv)
    with open(a.flash, "rb") as f:
        flash = f.read()
    with open(a.served, "rb") as f:
        served = f.read()
    fail, rep = check(flash, served, a.flash_size, a.block_size, a.etag)
    for line in rep:
        print("fwr_check: " + line)
    for line in fail:
        print("fwr_check: FAIL: " + line)
    print("fwr_check: %s" % ("PASS" if not fail else "FAIL"))
    return 0 if not fail else 1


if __name__ == "__main__":
    sys.exit(main())
