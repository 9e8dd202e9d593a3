//! A TCP relay that behaves like a network link: a rate limit and a one-way delay in each direction, with a
//! bounded queue so senders feel back-pressure. Used to time REAPI transfers through a link like a user's
//! (this machine's kernel has no `netem` for `tc`).
//!
//! The relay's own sockets keep small receive buffers. Left to the kernel's autotuning they grow to megabytes, and
//! every byte in them is acknowledged to the sender before it has crossed the emulated link: a queue of several
//! megabytes in front of the link that a real path does not have (there, bytes the bottleneck cannot take yet
//! wait unacknowledged in the sender's own socket), and that delayed every small call behind an upload.

use std::{
    io::{Read, Write},
    net::{Shutdown, SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

/// A link's shape.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    /// Bytes per second each way (`None`: unlimited).
    pub rate: Option<u64>,
    /// Delay each way (half the round trip).
    pub one_way_delay: Duration,
}

impl Link {
    /// 100 Mbit/s with a 20 ms round trip.
    pub fn broadband() -> Self {
        Self { rate: Some(100_000_000 / 8), one_way_delay: Duration::from_millis(10) }
    }
}

/// A running relay; stops accepting when dropped.
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

/// The most a reader takes from a socket at once.
const PIECE: usize = 16 * 1024;

impl Relay {
    /// Listens on a free loopback port and forwards every connection to `upstream` through `link`.
    pub fn start(upstream: SocketAddr, link: Link) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        // Accepted sockets inherit the listener's receive buffer size.
        socket2::SockRef::from(&listener).set_recv_buffer_size(RECV_BUFFER)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        // One link each way, shared by every connection through the relay, as a user's connections share theirs.
        let (up, down) = (Wire::start(link), Wire::start(link));
        thread::spawn(move || {
            for client in listener.incoming() {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = connect_small(upstream) else { continue };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (client, server) = (Arc::new(client), Arc::new(server));
                for (from, to, wire) in [(&client, &server, &up), (&server, &client, &down)] {
                    read_into(Arc::clone(from), Arc::clone(to), wire.clone());
                }
            }
        });
        Ok(Self { addr, stop })
    }

    /// The relay's address as a REAPI URL.
    pub fn url(&self) -> String {
        format!("grpc://{}", self.addr)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// The receive buffer of the relay's sockets (the kernel doubles it for its bookkeeping).
const RECV_BUFFER: usize = 64 * 1024;

/// Connects to `upstream` from a socket with a small receive buffer, set before the handshake so the window
/// it advertises is small from the start.
fn connect_small(upstream: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::for_address(upstream), socket2::Type::STREAM, None)?;
    socket.set_recv_buffer_size(RECV_BUFFER)?;
    socket.connect(&upstream.into())?;
    Ok(socket.into())
}

/// What crosses a wire: a piece of one connection's bytes, or the end of that connection's direction.
struct Piece {
    arrived: Instant,
    bytes: Option<Vec<u8>>,
    to: Arc<TcpStream>,
}

/// One direction of the link: a queue of about two bandwidth-delay products (so senders are held back as by a
/// real link) in front of a thread that lets each piece leave when the link is free and its transmission time has
/// passed, and delivers it one delay later.
#[derive(Clone)]
struct Wire {
    queue: mpsc::SyncSender<Piece>,
}

impl Wire {
    fn start(link: Link) -> Self {
        let depth = link.rate.map_or(64, |r| {
            ((2.0 * r as f64 * 2.0 * link.one_way_delay.as_secs_f64()) as usize / PIECE).clamp(4, 256)
        });
        let (queue, pieces) = mpsc::sync_channel::<Piece>(depth);
        thread::spawn(move || {
            let mut link_free = Instant::now();
            for piece in pieces {
                let len = piece.bytes.as_ref().map_or(0, Vec::len);
                let transmit =
                    link.rate.map_or(Duration::ZERO, |r| Duration::from_secs_f64(len as f64 / r as f64));
                let depart = piece.arrived.max(link_free) + transmit;
                link_free = depart;
                let deliver = depart + link.one_way_delay;
                let now = Instant::now();
                if deliver > now {
                    thread::sleep(deliver - now);
                }
                // A connection that went away loses its bytes; the others go on.
                let _ = match &piece.bytes {
                    Some(bytes) => (&*piece.to).write_all(bytes),
                    None => piece.to.shutdown(Shutdown::Write),
                };
            }
        });
        Self { queue }
    }
}

/// Reads `from` and queues what it reads on `wire`, addressed to `to`, then the end of the stream.
fn read_into(from: Arc<TcpStream>, to: Arc<TcpStream>, wire: Wire) {
    thread::spawn(move || {
        let mut buf = vec![0u8; PIECE];
        loop {
            let bytes = match (&*from).read(&mut buf) {
                Ok(0) | Err(_) => None,
                Ok(n) => Some(buf[..n].to_vec()),
            };
            let end = bytes.is_none();
            if wire.queue.send(Piece { arrived: Instant::now(), bytes, to: Arc::clone(&to) }).is_err() || end
            {
                break;
            }
        }
    });
}
