//! Why a test died of SIGBUS under QEMU on 32-bit ARM, from the core dump QEMU writes.
//!
//! ARMv7 loads and stores single bytes, halfwords and words at any address, but LDRD/STRD (what
//! C compiles `*(uint64_t *)p` to) and LDM/STM need word-aligned addresses, and NEON/VFP
//! loads their own alignment. On a real ARMv7 Linux kernel an unaligned LDRD/STRD/LDM/STM
//! traps, and the kernel's alignment handler performs the access and resumes the program
//! (`/proc/cpu/alignment` counts them; on ARMv6 and later it always does, see
//! arch/arm/mm/alignment.c); QEMU's user mode has no such handler and delivers SIGBUS. So a
//! wheel whose code does what much C code does — 64-bit loads through casted, unaligned
//! pointers — crashes under QEMU and works on the hardware. NEON/VFP and exclusive accesses are
//! not fixed up by the kernel either: those crash on hardware too.
//!
//! QEMU's core dump (ELF32) holds the registers (NT_PRSTATUS) and the memory layout, but not
//! the code nor the names of mapped files: the faulting module is the wheel's extension module
//! whose executable segment has the size of the core's segment holding PC, and the instruction
//! is read from that module and decoded here (Thumb-2 and A32 encodings of the alignment-
//! sensitive loads and stores).

use object::LittleEndian as LE;
use object::elf::{self, FileHeader32, PF_X, PT_LOAD, PT_NOTE};
use object::read::elf::{FileHeader, ProgramHeader};
use std::path::Path;

/// What the fault means for the wheel.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// An access a real ARMv7 kernel fixes up: an artifact of user-mode emulation.
    KernelFixesUp(String),
    /// An access that faults on hardware too, or a fault that is not an alignment fault.
    Fault(String),
}

const SIGBUS: i16 = 7;
const PAGE: u32 = 0x1000;

/// Registers of the crashed thread: r0–r15 and CPSR, from the core's NT_PRSTATUS.
struct Registers {
    r: [u32; 16],
    cpsr: u32,
    signal: i16,
}

fn registers(core: &[u8]) -> Option<Registers> {
    let header = FileHeader32::<LE>::parse(core).ok()?;
    let endian = header.endian().ok()?;
    if header.e_machine(endian) != elf::EM_ARM {
        return None;
    }
    for ph in header.program_headers(endian, core).ok()? {
        if ph.p_type(endian) != PT_NOTE {
            continue;
        }
        let mut notes = ph.notes(endian, core).ok()??;
        while let Ok(Some(note)) = notes.next() {
            // struct elf_prstatus of 32-bit ARM: pr_cursig at 12, pr_reg (18 words) at 72.
            let desc = note.desc();
            if note.n_type(endian) != elf::NT_PRSTATUS || desc.len() < 72 + 17 * 4 {
                continue;
            }
            let word = |i: usize| u32::from_le_bytes(desc[72 + 4 * i..76 + 4 * i].try_into().expect("4 bytes"));
            let mut r = [0u32; 16];
            for (i, v) in r.iter_mut().enumerate() {
                *v = word(i);
            }
            return Some(Registers { r, cpsr: word(16), signal: i16::from_le_bytes([desc[12], desc[13]]) });
        }
    }
    None
}

/// Executable LOAD segments of the core: (start, size).
fn core_code_segments(core: &[u8]) -> Vec<(u32, u32)> {
    let Ok(header) = FileHeader32::<LE>::parse(core) else { return Vec::new() };
    let Ok(endian) = header.endian() else { return Vec::new() };
    let Ok(phs) = header.program_headers(endian, core) else { return Vec::new() };
    phs.iter()
        .filter(|ph| ph.p_type(endian) == PT_LOAD && ph.p_flags(endian).0 & PF_X.0 != 0)
        .map(|ph| (ph.p_vaddr(endian), ph.p_memsz(endian)))
        .collect()
}

/// Where `pc` falls in one of `modules` (name, ELF bytes), and the 4 bytes of code there.
fn locate(core: &[u8], pc: u32, modules: &[(String, Vec<u8>)]) -> Option<(String, u32, [u8; 4])> {
    let (seg_start, seg_size) = core_code_segments(core).into_iter().find(|(s, n)| pc >= *s && pc - s < *n)?;
    for (name, elf_bytes) in modules {
        let Ok(header) = FileHeader32::<LE>::parse(elf_bytes.as_slice()) else { continue };
        let Ok(endian) = header.endian() else { continue };
        let Ok(phs) = header.program_headers(endian, elf_bytes.as_slice()) else { continue };
        for ph in phs.iter().filter(|ph| ph.p_type(endian) == PT_LOAD && ph.p_flags(endian).0 & PF_X.0 != 0) {
            let (vaddr, memsz, offset) = (ph.p_vaddr(endian), ph.p_memsz(endian), ph.p_offset(endian));
            // Mapped from vaddr's page to the page after its end.
            let mapped = (vaddr + memsz).div_ceil(PAGE) * PAGE - vaddr / PAGE * PAGE;
            if mapped != seg_size {
                continue;
            }
            let base = seg_start - vaddr / PAGE * PAGE;
            let at = pc - base;
            if at < vaddr || at - vaddr >= memsz {
                continue;
            }
            let file_at = (at - vaddr + offset) as usize;
            let code: [u8; 4] = elf_bytes.get(file_at..file_at + 4)?.try_into().ok()?;
            return Some((name.clone(), at, code));
        }
    }
    None
}

/// An alignment-sensitive load or store: its name, the address it accessed, and whether the
/// kernel's alignment handler emulates it.
#[derive(Debug, PartialEq, Eq)]
struct Access {
    name: &'static str,
    address: u32,
    alignment: u32,
    fixed_up: bool,
}

/// Decodes the instruction at PC (Thumb-2 when CPSR.T is set, else A32).
fn decode(code: [u8; 4], regs: &Registers) -> Option<Access> {
    let reg = |n: u32| if n == 15 { 0 } else { regs.r[n as usize] };
    if regs.cpsr & 0x20 != 0 {
        let hw1 = u16::from_le_bytes([code[0], code[1]]) as u32;
        let hw2 = u16::from_le_bytes([code[2], code[3]]) as u32;
        let rn = hw1 & 0xf;
        // LDRD/STRD (immediate), T1: 1110 100P U1WL Rn | Rt Rt2 imm8
        if hw1 & 0xfe40 == 0xe840 && hw1 & 0x0120 != 0 {
            let (p, u) = (hw1 & 0x100 != 0, hw1 & 0x80 != 0);
            let imm = (hw2 & 0xff) << 2;
            let address =
                if p { if u { reg(rn).wrapping_add(imm) } else { reg(rn).wrapping_sub(imm) } } else { reg(rn) };
            let name = if hw1 & 0x10 != 0 { "LDRD" } else { "STRD" };
            return Some(Access { name, address, alignment: 4, fixed_up: true });
        }
        // LDM/STM (IA, DB), T2: 1110 100 op(2) 0 W L Rn
        if hw1 & 0xfe40 == 0xe800 && matches!((hw1 >> 7) & 3, 1 | 2) {
            let count = (hw2 & 0xffff).count_ones();
            let address = if (hw1 >> 7) & 3 == 2 { reg(rn).wrapping_sub(4 * count) } else { reg(rn) };
            let name = if hw1 & 0x10 != 0 { "LDM" } else { "STM" };
            return Some(Access { name, address, alignment: 4, fixed_up: true });
        }
        // VLDR/VSTR: 1110 1101 UD0L Rn | Vd 101x imm8
        if hw1 & 0xff20 == 0xed00 && hw2 & 0x0e00 == 0x0a00 {
            let imm = (hw2 & 0xff) << 2;
            let base = reg(rn) & !3;
            let address = if hw1 & 0x80 != 0 { base.wrapping_add(imm) } else { base.wrapping_sub(imm) };
            let name = if hw1 & 0x10 != 0 { "VLDR" } else { "VSTR" };
            return Some(Access { name, address, alignment: 4, fixed_up: false });
        }
        // NEON element and structure loads/stores (VLD1…, VST1…): 1111 1001 0DL0 Rn. They
        // fault only against their alignment hint, which the kernel does not fix up.
        if hw1 & 0xff90 == 0xf900 {
            let name = if hw1 & 0x20 != 0 { "VLD (NEON)" } else { "VST (NEON)" };
            return Some(Access { name, address: reg(rn), alignment: 1, fixed_up: false });
        }
        return None;
    }
    let w = u32::from_le_bytes(code);
    let rn = (w >> 16) & 0xf;
    // LDRD/STRD (immediate), A1: cond 000P U1W0 Rn Rt imm4H 1101 imm4L (LDRD), …1111… (STRD)
    if matches!(w & 0x0e50_00f0, 0x0040_00d0 | 0x0040_00f0) {
        let (p, u) = (w & (1 << 24) != 0, w & (1 << 23) != 0);
        let imm = ((w >> 4) & 0xf0) | (w & 0xf);
        let address = if p { if u { reg(rn).wrapping_add(imm) } else { reg(rn).wrapping_sub(imm) } } else { reg(rn) };
        let name = if w & 0x20 == 0 { "LDRD" } else { "STRD" };
        return Some(Access { name, address, alignment: 4, fixed_up: true });
    }
    // LDM/STM, A1: cond 100P USWL Rn reglist
    if w & 0x0e00_0000 == 0x0800_0000 {
        let count = (w & 0xffff).count_ones();
        let (p, u) = (w & (1 << 24) != 0, w & (1 << 23) != 0);
        let address = match (p, u) {
            (false, true) => reg(rn),
            (true, true) => reg(rn).wrapping_add(4),
            (false, false) => reg(rn).wrapping_sub(4 * count).wrapping_add(4),
            (true, false) => reg(rn).wrapping_sub(4 * count),
        };
        let name = if w & (1 << 20) != 0 { "LDM" } else { "STM" };
        return Some(Access { name, address, alignment: 4, fixed_up: true });
    }
    // VLDR/VSTR, A1: cond 1101 UD0L Rn Vd 101x imm8
    if w & 0x0f20_0e00 == 0x0d00_0a00 {
        let imm = (w & 0xff) << 2;
        let base = reg(rn) & !3;
        let address = if w & (1 << 23) != 0 { base.wrapping_add(imm) } else { base.wrapping_sub(imm) };
        let name = if w & (1 << 20) != 0 { "VLDR" } else { "VSTR" };
        return Some(Access { name, address, alignment: 4, fixed_up: false });
    }
    None
}

/// The verdict on a SIGBUS whose core dump is `core`, given the extension modules of the wheel
/// under test (name inside the wheel, ELF bytes).
pub fn analyze(core: &Path, modules: &[(String, Vec<u8>)]) -> Verdict {
    let Ok(bytes) = std::fs::read(core) else {
        return Verdict::Fault("killed by SIGBUS under QEMU (no core dump to tell where)".into());
    };
    let Some(regs) = registers(&bytes) else {
        return Verdict::Fault("killed by SIGBUS under QEMU (its core dump has no ARM registers)".into());
    };
    if regs.signal != SIGBUS {
        return Verdict::Fault(format!("killed by signal {} under QEMU", regs.signal));
    }
    let pc = regs.r[15];
    let Some((module, at, code)) = locate(&bytes, pc, modules) else {
        return Verdict::Fault(format!(
            "killed by SIGBUS under QEMU at PC {pc:#x}, outside the wheel's extension modules (the Python traceback above says where)"
        ));
    };
    let place = format!("{module}+{at:#x}");
    match decode(code, &regs) {
        Some(a) if a.address % a.alignment != 0 && a.fixed_up => Verdict::KernelFixesUp(format!(
            "{} at {place} accessed {:#x}, not {}-byte aligned: QEMU's user mode delivers SIGBUS where an ARMv7 Linux kernel performs such an access (its alignment handler); the tests after it did not run",
            a.name, a.address, a.alignment
        )),
        Some(a) if a.address % a.alignment != 0 => Verdict::Fault(format!(
            "{} at {place} accessed {:#x}, not {}-byte aligned: ARMv7 kernels do not fix up {} either, so this fails on hardware too",
            a.name, a.address, a.alignment, a.name
        )),
        Some(a) => Verdict::Fault(format!(
            "SIGBUS at {place} ({} of {:#x}) under QEMU: an alignment hint or an access the kernel does not fix up, which fails on hardware too",
            a.name, a.address
        )),
        None => Verdict::Fault(format!("SIGBUS at {place} (instruction {:02x?}) under QEMU", code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regs(r0: u32, thumb: bool) -> Registers {
        let mut r = [0u32; 16];
        r[0] = r0;
        Registers { r, cpsr: if thumb { 0x20 } else { 0 }, signal: SIGBUS }
    }

    #[test]
    fn decodes_the_accesses_alignment_depends_on() {
        // Thumb-2 `ldrd r0, r1, [r0]` (e9d0 0100), GCC's and zig's `*(uint64_t *)p`.
        let a = decode([0xd0, 0xe9, 0x00, 0x01], &regs(0x3fff_fd01, true)).unwrap();
        assert_eq!(a, Access { name: "LDRD", address: 0x3fff_fd01, alignment: 4, fixed_up: true });
        // Thumb-2 `strd r2, r3, [r0, #8]` (e9c0 2302).
        let a = decode([0xc0, 0xe9, 0x02, 0x23], &regs(0x1001, true)).unwrap();
        assert_eq!((a.name, a.address), ("STRD", 0x1009));
        // Thumb-2 `ldmia.w r0, {r2, r3}` (e890 000c).
        let a = decode([0x90, 0xe8, 0x0c, 0x00], &regs(0x2002, true)).unwrap();
        assert_eq!((a.name, a.address, a.fixed_up), ("LDM", 0x2002, true));
        // Thumb-2 `vldr d0, [r0]` (ed90 0b00): not fixed up by the kernel.
        let a = decode([0x90, 0xed, 0x00, 0x0b], &regs(0x3001, true)).unwrap();
        assert_eq!((a.name, a.address, a.fixed_up), ("VLDR", 0x3000, false));
        // A32 `ldrd r2, r3, [r0]` (e1c020d0) and `ldm r0, {r1, r2}` (e8900006).
        let a = decode(0xe1c0_20d0u32.to_le_bytes(), &regs(0x4003, false)).unwrap();
        assert_eq!((a.name, a.address), ("LDRD", 0x4003));
        let a = decode(0xe890_0006u32.to_le_bytes(), &regs(0x5006, false)).unwrap();
        assert_eq!((a.name, a.address), ("LDM", 0x5006));
        // A plain word load is not one of them.
        assert_eq!(decode([0x00, 0x68, 0x70, 0x47], &regs(1, true)), None);
    }
}
