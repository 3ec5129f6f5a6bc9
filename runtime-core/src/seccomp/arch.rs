//! The seccomp architectures hull can compile for: their audit tokens, syscall tables and how the
//! OCI architecture names map onto them (as libseccomp maps them for runc).

use oci_spec::runtime::Arch as OciArch;

use super::tables;

/// `AUDIT_ARCH_X86_64`: shared by the x86_64 and x32 ABIs, told apart by [`X32_SYSCALL_BIT`].
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
const AUDIT_ARCH_AARCH64: u32 = 0xc000_00b7;

/// Set in the syscall number of every x32 syscall (`__X32_SYSCALL_BIT`).
pub(super) const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// An ABI with its own syscall table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Arch {
    X86_64,
    X32,
    X86,
    Aarch64,
}

/// What an OCI architecture name means on the host the filter is compiled for.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Resolved {
    /// An ABI the host kernel can run: its syscalls must be filtered.
    Compiled(Arch),
    /// An ABI the host kernel can never report (e.g. MIPS on x86_64): no process can make such a
    /// syscall, so leaving it out of the filter changes nothing.
    Foreign,
    /// An ABI the host runs but hull has no table for.
    Unsupported,
}

impl Arch {
    /// The architecture hull itself was built for, which is the one libseccomp always adds.
    pub(crate) fn native() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Arch::Aarch64)
        } else {
            None
        }
    }

    /// The value the kernel puts in `seccomp_data.arch` for this ABI.
    pub(super) fn audit(self) -> u32 {
        match self {
            Arch::X86_64 | Arch::X32 => AUDIT_ARCH_X86_64,
            Arch::X86 => AUDIT_ARCH_I386,
            Arch::Aarch64 => AUDIT_ARCH_AARCH64,
        }
    }

    /// Whether arguments are 64 bits wide. libseccomp compares only the low 32 bits on x86 and x32.
    pub(super) fn args64(self) -> bool {
        matches!(self, Arch::X86_64 | Arch::Aarch64)
    }

    fn table(self) -> &'static [(&'static str, u32)] {
        match self {
            Arch::X86_64 => tables::X86_64,
            Arch::X32 => tables::X32,
            Arch::X86 => tables::X86,
            Arch::Aarch64 => tables::AARCH64,
        }
    }

    /// The syscall number of `name` in this ABI (x32 numbers include [`X32_SYSCALL_BIT`]).
    pub(crate) fn syscall(self, name: &str) -> Option<u32> {
        let t = self.table();
        t.binary_search_by(|(n, _)| n.cmp(&name)).ok().map(|i| t[i].1)
    }

    /// The `SCMP_ARCH_*` name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "SCMP_ARCH_X86_64",
            Arch::X32 => "SCMP_ARCH_X32",
            Arch::X86 => "SCMP_ARCH_X86",
            Arch::Aarch64 => "SCMP_ARCH_AARCH64",
        }
    }

    /// Maps an OCI architecture onto this host (`self` is the native architecture).
    pub(super) fn resolve(self, oci: OciArch) -> Resolved {
        let arch = match oci {
            OciArch::ScmpArchNative => return Resolved::Compiled(self),
            OciArch::ScmpArchX86_64 => Arch::X86_64,
            OciArch::ScmpArchX32 => Arch::X32,
            OciArch::ScmpArchX86 => Arch::X86,
            OciArch::ScmpArchAarch64 => Arch::Aarch64,
            // The 32-bit compat ABI of an aarch64 kernel.
            OciArch::ScmpArchArm if self == Arch::Aarch64 => return Resolved::Unsupported,
            _ => return Resolved::Foreign,
        };
        if arch.family() == self.family() {
            Resolved::Compiled(arch)
        } else {
            Resolved::Foreign
        }
    }

    /// The kernel that can run this ABI.
    fn family(self) -> Arch {
        match self {
            Arch::X86_64 | Arch::X32 | Arch::X86 => Arch::X86_64,
            Arch::Aarch64 => Arch::Aarch64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        for arch in [Arch::X86_64, Arch::X32, Arch::X86, Arch::Aarch64] {
            let t = arch.table();
            assert!(t.windows(2).all(|w| w[0].0 < w[1].0), "{arch:?} table not sorted");
            assert!(t.len() > 280, "{arch:?} table has only {} entries", t.len());
        }
    }

    #[test]
    fn numbers_match_the_kernel_abi() {
        assert_eq!(Arch::X86_64.syscall("read"), Some(0));
        assert_eq!(Arch::X86_64.syscall("openat2"), Some(437));
        assert_eq!(Arch::X86.syscall("read"), Some(3));
        assert_eq!(Arch::X86.syscall("socketcall"), Some(102));
        assert_eq!(Arch::X32.syscall("read"), Some(X32_SYSCALL_BIT));
        assert_eq!(Arch::Aarch64.syscall("openat"), Some(56));
        assert_eq!(Arch::Aarch64.syscall("open"), None, "aarch64 has no open(2)");
        assert_eq!(Arch::X86_64.syscall("no_such_call"), None);
        assert_eq!(libc::SYS_getppid as u32, Arch::native().unwrap().syscall("getppid").unwrap());
    }

    #[test]
    fn oci_names_resolve_per_host() {
        let x = Arch::X86_64;
        assert_eq!(x.resolve(OciArch::ScmpArchX32), Resolved::Compiled(Arch::X32));
        assert_eq!(x.resolve(OciArch::ScmpArchNative), Resolved::Compiled(Arch::X86_64));
        assert_eq!(x.resolve(OciArch::ScmpArchArm), Resolved::Foreign);
        assert_eq!(x.resolve(OciArch::ScmpArchAarch64), Resolved::Foreign);
        assert_eq!(Arch::Aarch64.resolve(OciArch::ScmpArchArm), Resolved::Unsupported);
        assert_eq!(Arch::Aarch64.resolve(OciArch::ScmpArchX86), Resolved::Foreign);
    }
}
