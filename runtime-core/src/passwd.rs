//! The container's /etc/passwd, read from inside the new root (HOME for the process's uid).

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

/// Files larger than this are not user databases; stop reading rather than exhaust memory.
const MAX: u64 = 4 << 20;

/// The home directory of `uid` in /etc/passwd of the current root, if any.
pub(crate) fn home_of(uid: u32) -> Option<String> {
    // O_NONBLOCK: a fifo planted at /etc/passwd must not hang the runtime.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open("/etc/passwd")
        .ok()?;
    let md = f.metadata().ok()?;
    if !md.file_type().is_file() || md.file_type().is_fifo() {
        return None;
    }
    let mut s = String::new();
    f.take(MAX).read_to_string(&mut s).ok()?;
    parse_home(&s, uid)
}

/// Finds field 6 of the first line whose field 3 is `uid`.
pub(crate) fn parse_home(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 7 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[5].to_owned())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn home_lookup() {
        let p = "root:x:0:0:root:/root:/bin/sh\n# comment\nbad line\ntest:x:1000:1000::/home/test:/bin/sh\n";
        assert_eq!(super::parse_home(p, 0).as_deref(), Some("/root"));
        assert_eq!(super::parse_home(p, 1000).as_deref(), Some("/home/test"));
        assert_eq!(super::parse_home(p, 5), None);
    }
}
