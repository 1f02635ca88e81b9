//! What the RTP load runners measure with: loopback sockets that stamp each datagram's
//! arrival in the kernel, and CPU time per thread and for the whole machine from `/proc`.

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

/// A non-blocking UDP socket on 127.0.0.1 with a large receive buffer and kernel arrival
/// timestamps (`SO_TIMESTAMPNS`), so a reader that drains it in batches does not blur the
/// times.
pub fn bind_timestamped() -> anyhow::Result<UdpSocket> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    socket.set_recv_buffer_size(64 * 1024 * 1024)?;
    socket.set_send_buffer_size(16 * 1024 * 1024)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    socket.set_nonblocking(true)?;
    let socket: UdpSocket = socket.into();
    let on: libc::c_int = 1;
    // SAFETY: a valid socket, option and int-sized value.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            &on as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    anyhow::ensure!(
        rc == 0,
        "SO_TIMESTAMPNS: {}",
        std::io::Error::last_os_error()
    );
    Ok(socket)
}

/// One datagram, its sender's port and its `SCM_TIMESTAMPNS` arrival time (ns since the
/// epoch, the same clock as `SystemTime`); `None` when none is waiting.
pub fn recv_timestamped(
    socket: &UdpSocket,
    buf: &mut [u8],
    control: &mut [u64; 16],
) -> Option<(usize, u16, u64)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: plain data, filled in by the kernel.
    let mut from: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    // SAFETY: msghdr is plain data; every pointer set below outlives the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = &mut from as *mut libc::sockaddr_in as *mut libc::c_void;
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = std::mem::size_of_val(control) as _;
    // SAFETY: a valid socket and a msghdr pointing at live buffers.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return None;
    }
    let mut at = 0u64;
    // SAFETY: walking the control messages the kernel wrote into `control`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::timespec);
                at = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Some((n as usize, u16::from_be(from.sin_port), at))
}

/// CPU seconds all cores spent busy (not idle or waiting for IO), from `/proc/stat`.
pub fn machine_busy_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0.0;
    };
    let Some(line) = stat.lines().next() else {
        return 0.0;
    };
    let ticks: Vec<f64> = line
        .split_ascii_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...
    let busy: f64 = ticks
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .take(6)
        .sum();
    busy / 100.0
}
