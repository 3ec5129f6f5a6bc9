//! linux.netDevices: host interfaces moved into the container's network namespace, renamed, with
//! their permanent addresses and up state carried over (the kernel flushes addresses on a move).
//!
//! Done by the container's child once it is in its network namespace, through a route socket the
//! runtime opened in the host's namespace before the clone; a second socket opened by the child
//! talks to its own namespace.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use pathrs::flags::OpenFlags;
use pathrs::procfs::{ProcfsBase, ProcfsHandle};

use crate::error::SysError;
use crate::plan::NetDevice;
use crate::sys;
use crate::sys::process::Forked;

const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const F_REQUEST: u16 = 1;
const F_ACK: u16 = 4;
const F_DUMP: u16 = 0x300;
const F_CREATE: u16 = 0x400;
const F_EXCL: u16 = 0x200;
const IFLA_IFNAME: u16 = 3;
const IFLA_NET_NS_FD: u16 = 28;
const IFA_F_PERMANENT: u32 = 0x80;
const IFA_LABEL: u16 = 3;
const IFA_FLAGS: u16 = 8;
const IFF_UP: u32 = 1;

/// One address of an interface, as RTM_NEWADDR takes it back.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Addr {
    /// The ifaddrmsg header (index zeroed), then its attributes.
    header: [u8; 8],
    attrs: Vec<(u16, Vec<u8>)>,
}

fn attr(buf: &mut Vec<u8>, typ: u16, data: &[u8]) {
    let len = 4 + data.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&typ.to_ne_bytes());
    buf.extend_from_slice(data);
    buf.resize(buf.len().next_multiple_of(4), 0);
}

fn message(typ: u16, flags: u16, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(16 + body.len());
    m.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
    m.extend_from_slice(&typ.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&1u32.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(body);
    m
}

fn ifinfo(index: i32, flags: u32, change: u32) -> Vec<u8> {
    let mut b = vec![0u8; 4];
    b.extend_from_slice(&index.to_ne_bytes());
    b.extend_from_slice(&flags.to_ne_bytes());
    b.extend_from_slice(&change.to_ne_bytes());
    b
}

fn cname(name: &str) -> Vec<u8> {
    let mut v = name.as_bytes().to_vec();
    v.push(0);
    v
}

/// Splits a datagram into (type, payload) messages.
///
/// Indexing here and in `attrs` is bounds-safe by the loop conditions: a header is read only
/// while `rest` holds one (16 or 4 bytes), a payload only after `len <= rest.len()` was checked,
/// and the next slice start is clamped to `rest.len()`.
fn messages(buf: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut rest = buf;
    while rest.len() >= 16 {
        let len = u32::from_ne_bytes(rest[0..4].try_into().expect("4 bytes")) as usize;
        if len < 16 || len > rest.len() {
            break;
        }
        out.push((u16::from_ne_bytes([rest[4], rest[5]]), &rest[16..len]));
        rest = &rest[len.next_multiple_of(4).min(rest.len())..];
    }
    out
}

/// Attributes after a fixed header of `skip` bytes.
fn attrs(payload: &[u8], skip: usize) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut rest = payload.get(skip..).unwrap_or(&[]);
    while rest.len() >= 4 {
        let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
        if len < 4 || len > rest.len() {
            break;
        }
        out.push((u16::from_ne_bytes([rest[2], rest[3]]), &rest[4..len]));
        rest = &rest[len.next_multiple_of(4).min(rest.len())..];
    }
    out
}

fn errno_of(payload: &[u8]) -> i32 {
    // Cannot panic: `get(0..4)` yields exactly 4 bytes.
    payload.get(0..4).map(|b| -i32::from_ne_bytes(b.try_into().expect("4 bytes"))).unwrap_or(libc::EIO)
}

/// Sends a request and collects reply payloads of type `want` until the ack or the dump's end.
fn request(sock: BorrowedFd<'_>, msg: &[u8], want: u16, what: &str) -> Result<Vec<Vec<u8>>, SysError> {
    sys::netlink::send(sock, msg)?;
    let mut out = Vec::new();
    loop {
        let buf = sys::netlink::recv(sock)?;
        for (typ, payload) in messages(&buf) {
            match typ {
                NLMSG_ERROR => {
                    let errno = errno_of(payload);
                    return if errno == 0 { Ok(out) } else { Err(SysError::from_errno(what, None, errno)) };
                }
                NLMSG_DONE => return Ok(out),
                t if t == want => out.push(payload.to_vec()),
                _ => {}
            }
        }
    }
}

/// (index, flags) of the interface called `name`.
fn link(sock: BorrowedFd<'_>, name: &str) -> Result<(i32, u32), SysError> {
    let mut body = ifinfo(0, 0, 0);
    attr(&mut body, IFLA_IFNAME, &cname(name));
    let what = format!("RTM_GETLINK {name}");
    let replies = request(sock, &message(RTM_GETLINK, F_REQUEST | F_ACK, &body), RTM_NEWLINK, &what)?;
    let p = replies.first().filter(|p| p.len() >= 16).ok_or_else(|| SysError::check(&what, None, "no reply"))?;
    // Cannot panic: `p` holds at least 16 bytes (filtered above) and each slice is 4 long.
    Ok((i32::from_ne_bytes(p[4..8].try_into().expect("4")), u32::from_ne_bytes(p[8..12].try_into().expect("4"))))
}

fn permanent_addrs(sock: BorrowedFd<'_>, index: i32) -> Result<Vec<Addr>, SysError> {
    let replies = request(sock, &message(RTM_GETADDR, F_REQUEST | F_DUMP, &[0u8; 8]), RTM_NEWADDR, "RTM_GETADDR")?;
    let mut out = Vec::new();
    // Cannot panic below: each `p` holds at least the 8-byte ifaddrmsg, slices are of fixed
    // length, and attribute data is used only when it is exactly 4 bytes.
    for p in replies.iter().filter(|p| p.len() >= 8) {
        if u32::from_ne_bytes(p[4..8].try_into().expect("4")) != index as u32 {
            continue;
        }
        let list = attrs(p, 8);
        let flags = list
            .iter()
            .find(|(t, d)| *t == IFA_FLAGS && d.len() == 4)
            .map(|(_, d)| u32::from_ne_bytes((*d).try_into().expect("4")))
            .unwrap_or(p[2] as u32);
        if flags & IFA_F_PERMANENT == 0 {
            continue;
        }
        let mut header: [u8; 8] = p[0..8].try_into().expect("8");
        header[4..8].fill(0);
        // The label carries the host's interface name; the kernel names it after the new one.
        let attrs = list.into_iter().filter(|(t, _)| *t != IFA_LABEL).map(|(t, d)| (t, d.to_vec())).collect();
        out.push(Addr { header, attrs });
    }
    Ok(out)
}

/// Opens the host-side route socket (before the clone, in the runtime's namespace).
pub(crate) fn host_socket(devices: &[NetDevice]) -> Result<Option<OwnedFd>, SysError> {
    if devices.is_empty() {
        return Ok(None);
    }
    sys::netlink::route_socket().map(Some)
}

/// Moves every device into `netns` (our own, already entered) and restores its addresses and state.
pub(crate) fn move_in(host: BorrowedFd<'_>, netns: BorrowedFd<'_>, devices: &[NetDevice]) -> Result<(), SysError> {
    let local = sys::netlink::route_socket()?;
    for d in devices {
        let (index, flags) =
            link(host, &d.host_name).map_err(|e| e.with_detail(format!("host device {}", d.host_name)))?;
        let addrs = permanent_addrs(host, index)?;
        let mut body = ifinfo(index, 0, 0);
        attr(&mut body, IFLA_NET_NS_FD, &(std::os::fd::AsRawFd::as_raw_fd(&netns) as u32).to_ne_bytes());
        attr(&mut body, IFLA_IFNAME, &cname(&d.name));
        let what = format!("move {} to the container as {}", d.host_name, d.name);
        request(host, &message(RTM_NEWLINK, F_REQUEST | F_ACK, &body), 0, &what)?;
        let (new_index, _) = link(local.as_fd(), &d.name)?;
        for a in &addrs {
            let mut body = a.header.to_vec();
            body[4..8].copy_from_slice(&(new_index as u32).to_ne_bytes());
            for (t, data) in &a.attrs {
                attr(&mut body, *t, data);
            }
            let msg = message(RTM_NEWADDR, F_REQUEST | F_ACK | F_CREATE | F_EXCL, &body);
            request(local.as_fd(), &msg, 0, &format!("restore an address of {}", d.name))?;
        }
        if flags & IFF_UP != 0 {
            let body = ifinfo(new_index, IFF_UP, IFF_UP);
            request(local.as_fd(), &message(RTM_NEWLINK, F_REQUEST | F_ACK, &body), 0, &format!("set {} up", d.name))?;
        }
    }
    Ok(())
}

/// Moves the devices of a live container back to the runtime's network namespace under their host
/// names (delete does this before the kill, while the namespace still exists; a stopped
/// container's namespace is gone, and with it its virtual devices, physical ones going back to the
/// initial namespace by themselves). A child enters the container's namespace to do it.
pub(crate) fn move_out(init_pid: i32, devices: &[(String, String)]) -> Result<(), SysError> {
    if devices.is_empty() {
        return Ok(());
    }
    let procfs = ProcfsHandle::new().map_err(|e| sys::path_err("open", "procfs", e))?;
    let flags = OpenFlags::O_RDONLY | OpenFlags::O_CLOEXEC;
    let open = |base, sub: &str| {
        procfs.open_follow(base, sub, flags).map(OwnedFd::from).map_err(|e| sys::path_err("open", sub, e))
    };
    let host = open(ProcfsBase::ProcThreadSelf, "ns/net")?;
    let theirs = open(ProcfsBase::ProcRoot, &format!("{init_pid}/ns/net"))?;
    match sys::process::clone3(0, None)? {
        Forked::Child => {
            let code = match move_back(host.as_fd(), theirs.as_fd(), devices) {
                Ok(()) => 0,
                Err(e) => {
                    let _ = sys::fs::write_all(sys::process::stderr(), format!("hull: {e}\n").as_bytes(), "stderr");
                    1
                }
            };
            sys::process::exit_now(code)
        }
        Forked::Parent(pid) => match sys::process::wait_child(pid)? {
            0 => Ok(()),
            status => Err(SysError::check("move network devices back", None, format!("helper exited with {status}"))),
        },
    }
}

fn move_back(host: BorrowedFd<'_>, theirs: BorrowedFd<'_>, devices: &[(String, String)]) -> Result<(), SysError> {
    sys::process::setns(theirs, libc::CLONE_NEWNET, "container network namespace")?;
    let sock = sys::netlink::route_socket()?;
    for (host_name, name) in devices {
        let (index, _) = link(sock.as_fd(), name)?;
        let mut body = ifinfo(index, 0, 0);
        attr(&mut body, IFLA_NET_NS_FD, &(std::os::fd::AsRawFd::as_raw_fd(&host) as u32).to_ne_bytes());
        attr(&mut body, IFLA_IFNAME, &cname(host_name));
        request(sock.as_fd(), &message(RTM_NEWLINK, F_REQUEST | F_ACK, &body), 0, &format!("move {name} back"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_attributes_round_trip() {
        let mut body = ifinfo(7, IFF_UP, IFF_UP);
        attr(&mut body, IFLA_IFNAME, &cname("eth0"));
        let m = message(RTM_NEWLINK, F_REQUEST, &body);
        assert_eq!(m.len() % 4, 0);
        let parsed = messages(&m);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].0, RTM_NEWLINK);
        let a = attrs(parsed[0].1, 16);
        assert_eq!(a, vec![(IFLA_IFNAME, &b"eth0\0"[..])]);
        let err = message(NLMSG_ERROR, 0, &(-libc::ENODEV).to_ne_bytes());
        assert_eq!(errno_of(messages(&err)[0].1), libc::ENODEV);
    }

    #[test]
    fn truncated_input_stops_cleanly() {
        assert!(messages(&[1, 2, 3]).is_empty());
        let mut m = message(RTM_NEWADDR, 0, &[0u8; 8]);
        m[0] = 200;
        assert!(messages(&m).is_empty());
        assert!(attrs(&[8, 0, 1, 0], 0).is_empty());
    }
}
