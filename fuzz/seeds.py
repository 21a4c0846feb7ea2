#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the hand-made seed inputs of fuzz/corpus/ (run from the top
directory).  Inputs libFuzzer found later are added next to them by
`make fuzz-merge`; none is ever removed."""
import os
import struct

PLAT = {"default": 0, "sw_protected": 1, "snp": 2, "tdx": 3, "pkvm": 4}
POL = {"seed": 0, "rfc-v5": 1, "upstream": 2}
MMAP, SHARED = 1, 2
U, Z, P, ZP = 0, 1, 2, 3


def hdr(plat, pol, npages, flags):
    return bytes([PLAT[plat], POL[pol], npages - 1, flags])


def convert(first, n, private, mode, bad=0):
    return bytes([0, first, n, (1 if private else 0) | mode << 1, bad])


def punch(first, n, bad=0): return bytes([3, first, n, bad])
def pin(p): return bytes([4, p])
def unpin(p): return bytes([5, p])
def hwrite(p, seed): return bytes([6, p, seed])
def hread(p): return bytes([7, p, 0])
def gwrite(p, off16, len24, seed): return bytes([8, p, off16, len24, seed])
def gread(p, off16, len24): return bytes([9, p, off16, len24, 0])
def pwrite(p, off16, len16, seed): return bytes([10, p, off16, len16, seed])
def pread(p, off16, len16): return bytes([11, p, off16, len16, 0])
def phys(p, b): return bytes([12, p, b])
MAP = bytes([13])
FINAL = bytes([14])
def launch(p, n, t): return bytes([15, p, n - 1, t])
def tdxadd(p, n, m): return bytes([16, p, n - 1, m])
def pval(p, n, v): return bytes([17, p, n - 1, v])
def query(p, b=0): return bytes([18, p, b])


def api_seeds():
    s = {}
    s["default-roundtrip"] = (hdr("default", "seed", 8, MMAP | SHARED) + MAP +
        hwrite(0, 1) + hwrite(1, 2) + convert(0, 4, True, P) + hread(0) +
        pread(0, 0, 255) + pwrite(1, 4, 8, 9) + convert(0, 4, False, P) +
        hread(1) + pin(2) + convert(2, 2, True, U) + unpin(2) +
        convert(0, 8, True, Z) + convert(0, 8, False, Z) + hread(0) +
        punch(1, 2) + gwrite(0, 3, 100, 5) + gread(0, 0, 255) +
        phys(0, 77) + query(0) + query(3, 1))
    s["default-einval"] = (hdr("default", "seed", 4, MMAP | SHARED) + MAP +
        b"".join(convert(0, 2, True, P, bad) for bad in range(1, 8)) +
        convert(0, 2, True, ZP) + convert(3, 2, True, U) + punch(0, 0) +
        punch(0, 1, 1) + pin(9) + unpin(0) + query(4))
    s["private-start"] = (hdr("pkvm", "seed", 6, MMAP) + MAP + hread(0) +
        pwrite(0, 0, 255, 3) + convert(0, 3, False, P) + hread(0) +
        convert(0, 6, False, U) + gread(5, 0, 10))
    s["sw-scramble"] = (hdr("sw_protected", "seed", 4, MMAP | SHARED) + MAP +
        hwrite(0, 1) + hwrite(1, 1) + convert(0, 2, True, U) +
        convert(0, 2, False, U) + hread(0) + convert(0, 2, True, P) +
        convert(0, 2, False, Z) + hread(1))
    s["snp-launch"] = (hdr("snp", "seed", 8, MMAP | SHARED) + MAP +
        hwrite(2, 4) + convert(2, 3, True, P) + convert(2, 1, True, Z) +
        launch(2, 1, 1) + launch(3, 1, 3) + launch(4, 1, 5) +
        launch(2, 1, 1) + FINAL + pread(2, 0, 255) + pwrite(3, 1, 4, 2) +
        pread(3, 1, 4) + convert(5, 2, True, U) + pval(5, 2, 1) +
        pwrite(5, 0, 255, 8) + pread(5, 0, 255) + convert(2, 4, False, P) +
        hread(2) + hread(5) + launch(0, 1, 1) + pval(0, 1, 1))
    s["snp-cpuid"] = (hdr("snp", "seed", 4, MMAP | SHARED) + MAP +
        convert(1, 1, True, P) + launch(1, 1, 6) + convert(1, 1, False, P) +
        hread(1))
    s["tdx-launch"] = (hdr("tdx", "seed", 8, MMAP | SHARED) + MAP +
        hwrite(0, 7) + convert(0, 4, True, P) + tdxadd(0, 2, 1) +
        tdxadd(2, 1, 0) + tdxadd(0, 1, 1) + pread(0, 0, 255) + FINAL +
        FINAL + pread(3, 0, 20) + pwrite(3, 0, 255, 1) + pread(3, 0, 255) +
        convert(0, 8, False, P) + convert(0, 8, False, Z) + hread(0) +
        convert(0, 2, True, Z) + pread(1, 0, 1))
    s["rfc-v5"] = (hdr("snp", "rfc-v5", 4, MMAP | SHARED) + MAP +
        convert(0, 2, True, P) + convert(0, 2, False, P) +
        convert(0, 2, False, Z) + FINAL + convert(0, 2, True, P) +
        convert(0, 2, True, U) + query(0))
    s["upstream"] = (hdr("default", "upstream", 4, MMAP | SHARED) + MAP +
        convert(0, 2, True, Z) + convert(0, 2, True, U) + hread(0) +
        convert(0, 2, False, P) + convert(0, 2, False, U) + query(1))
    s["nommap"] = (hdr("default", "seed", 3, SHARED) + MAP +
        gwrite(0, 0, 200, 1) + convert(0, 1, True, P) + pread(0, 0, 9) +
        phys(0, 3))
    return s


def cpuid_table(entries, count=None, r1=0, r2=0):
    fns = b""
    for e in entries:
        fns += struct.pack("<IIQQIIIIQ", *e)
    n = len(entries) if count is None else count
    return struct.pack("<IIQ", n, r1, r2) + fns


def cpuid_seeds():
    ok0 = (0, 0, 0, 0, 0x10, 0x68747541, 0x444D4163, 0x69746E65, 0)
    s = {}
    s["valid"] = cpuid_table([ok0, (0x80000000, 0, 0, 0, 0x80000021, 0, 0, 0, 0)])
    s["insecure-leaf7"] = cpuid_table([ok0, (7, 0, 0, 0, 0, 0, 0, 1, 0)])
    s["max-leaf-high"] = cpuid_table([(0, 0, 0, 0, 0x7fffffff, 0, 0, 0, 0)])
    s["reserved"] = cpuid_table([ok0], r1=1) + b""
    s["entry-reserved"] = cpuid_table([(1, 0, 0, 0, 0, 0, ~0 & 0xffffffff, ~0 & 0xffffffff, 5)])
    s["sev-leaf"] = cpuid_table([(0x8000001f, 0, 0, 0, 0xffffffff, 0, 0, 0, 0)])
    s["count-64"] = cpuid_table([ok0] * 64)
    s["count-65"] = cpuid_table([ok0], count=65)
    s["count-huge"] = cpuid_table([], count=0xffffffff)
    s["xsave"] = cpuid_table([(0xd, 0, 7, 0, 0xffffffff, 0, 0, 1, 0),
                              (0xd, 1, 0, 0, 0xff, 0, 1, 1, 0)])
    return s


def ovmf_image(sections, reset_eip=0x80b004, size=8192, meta_at=0x100,
               version=1, table_extra=b""):
    """An OVMF-like image: SEV metadata at meta_at, a GUID table (hash
    table, reset block, metadata entries) ending 32 bytes before the end."""
    import uuid

    def guid(g):
        return uuid.UUID(g).bytes_le

    img = bytearray(size)
    hdr = b"ASEV" + struct.pack("<III", 16 + 12 * len(sections), version,
                                len(sections))
    hdr += b"".join(struct.pack("<III", *s) for s in sections)
    img[meta_at:meta_at + len(hdr)] = hdr

    def entry(data, g):
        return data + struct.pack("<H", len(data) + 18) + guid(g)

    table = table_extra
    table += entry(struct.pack("<II", 0x80f400, 0x400),
                   "7255371f-3a3b-4b04-927b-1da6efa8d454")
    table += entry(struct.pack("<I", reset_eip),
                   "00f771de-1a7e-4fcb-890e-68c77e2fb44e")
    table += entry(struct.pack("<I", size - meta_at),
                   "dc886566-984a-4798-a75e-5585a7bf67cc")
    table += struct.pack("<H", len(table) + 18) + \
        guid("96b582de-1fb2-45f7-baea-a366c55a082d")
    end = size - 32
    img[end - len(table):end] = table
    return bytes(img)


def tdvf_image(sections, size=8192, tdvf_at=0x100):
    """A TDVF-like image: the TDVF descriptor at tdvf_at, a GUID table with
    the TDX metadata entry ending 32 bytes before the end."""
    import uuid
    img = bytearray(size)
    d = b"TDVF" + struct.pack("<III", 16 + 32 * len(sections), 1, len(sections))
    d += b"".join(struct.pack("<IIQQII", *s) for s in sections)
    img[tdvf_at:tdvf_at + len(d)] = d
    entry = struct.pack("<I", size - tdvf_at) + struct.pack("<H", 22) + \
        uuid.UUID("e47a6535-984a-4798-865e-4685a7bf8ec2").bytes_le
    table = entry + struct.pack("<H", len(entry) + 18) + \
        uuid.UUID("96b582de-1fb2-45f7-baea-a366c55a082d").bytes_le
    img[size - 32 - len(table):size - 32] = table
    return bytes(img)


def ovmf_seeds():
    ovmf = [(0x800000, 0x9000, 1), (0x80a000, 0x3000, 1), (0x80d000, 0x1000, 2),
            (0x80e000, 0x1000, 3), (0x80f000, 0x1000, 0x10), (0x810000, 0x1000, 4)]
    s = {}
    s["ovmf"] = ovmf_image(ovmf)
    s["ovmf-3-vcpus"] = b"\x02" + ovmf_image(ovmf)[1:]
    s["no-reset-block"] = b"\x01" + ovmf_image(ovmf, reset_eip=0)[1:]
    s["overlap"] = ovmf_image([(0x800000, 0x2000, 1), (0x801000, 0x1000, 2)])
    s["version-2"] = ovmf_image(ovmf, version=2)
    s["unknown-entry"] = ovmf_image(ovmf, table_extra=b"\xaa" * 6 +
                                    struct.pack("<H", 24) + bytes(range(16)))
    s["no-table"] = bytes(4096)
    s["tdvf"] = tdvf_image([(0x1000, 0x1000, 0xfffff000, 0x1000, 0, 1),
                            (0, 0x1000, 0xffffe000, 0x1000, 1, 0),
                            (0, 0, 0x800000, 0x2000, 2, 0),
                            (0, 0, 0x802000, 0x1000, 3, 1)])
    s["tdvf-overlap"] = tdvf_image([(0x1000, 0x1000, 0xfffff000, 0x1000, 0, 1),
                                    (0, 0, 0xfffff000, 0x1000, 3, 0)])
    return s


def tdx_entry(function, index=0, eax=0, ebx=0, ecx=0, edx=0):
    return struct.pack("<10I", function, index, 0, eax, ebx, ecx, edx, 0, 0, 0)


def tdx_init_vm(attrs, xfam, entries, nent=None, reserved=0, padding=0):
    hdr = struct.pack("<QQ", attrs, xfam) + bytes(18 * 8)
    hdr += struct.pack("<Q", reserved) + bytes(11 * 8)
    hdr += struct.pack("<II", len(entries) if nent is None else nent, padding)
    return b"\x00" + hdr + b"".join(entries)


def tdx_seeds():
    gpaw48 = tdx_entry(0x80000008, eax=(48 << 16) | (48 << 8) | 46)
    s = {}
    s["init-vm"] = tdx_init_vm(1 << 28, 3, [tdx_entry(1, eax=0x806f8), gpaw48])
    s["init-vm-all-leaves"] = tdx_init_vm(0, 3, [
        tdx_entry(1), tdx_entry(7), tdx_entry(0xd), tdx_entry(0xd, 1),
        tdx_entry(0x80000001), gpaw48])
    s["init-vm-gpaw52"] = tdx_init_vm(0, 3, [tdx_entry(0x80000008, eax=52 << 16)])
    s["init-vm-tsx"] = tdx_init_vm(0, 3, [tdx_entry(7, ebx=1 << 11), gpaw48])
    s["init-vm-short"] = tdx_init_vm(0, 3, [gpaw48], nent=3)
    s["init-vm-reserved"] = tdx_init_vm(0, 3, [gpaw48], reserved=1)
    s["mem-region"] = b"\x01" + struct.pack("<QQQ", 0, 0x10000, 16)
    s["mem-region-shared"] = b"\x01" + struct.pack("<QQQ", 0, 1 << 47, 1)
    s["caps"] = b"\x02" + struct.pack("<I", 6)
    return s


def write(target, seeds):
    d = os.path.join("fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write("fuzz_api", api_seeds())
    write("fuzz_cpuid", cpuid_seeds())
    write("fuzz_ovmf", ovmf_seeds())
    write("fuzz_tdx", tdx_seeds())
