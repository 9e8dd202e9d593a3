//! A TCP relay that behaves like a network link: a rate limit and a one-way delay in each direction, with a
//! bounded queue so senders feel back-pressure. Used to time REAPI transfers through a link like a user's
//! (this machine's kernel has no `netem` for `tc`).

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

const PIECE: usize = 16 * 1024;

impl Relay {
    /// Listens on a free loopback port and forwards every connection to `upstream` through `link`.
    pub fn start(upstream: SocketAddr, link: Link) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        thread::spawn(move || {
            for client in listener.incoming() {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(upstream) else { continue };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                for (from, to) in [(&client, &server), (&server, &client)] {
                    if let (Ok(from), Ok(to)) = (from.try_clone(), to.try_clone()) {
                        pump(from, to, link);
                    }
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

/// Moves bytes from `from` to `to`: each piece leaves when the link is free and its transmission time has
/// passed, and arrives one delay later.
fn pump(mut from: TcpStream, mut to: TcpStream, link: Link) {
    // About two bandwidth-delay products of queue, so a sender is held back as by a real link.
    let depth = link.rate.map_or(64, |r| {
        ((2.0 * r as f64 * 2.0 * link.one_way_delay.as_secs_f64()) as usize / PIECE).clamp(4, 256)
    });
    let (tx, rx) = mpsc::sync_channel::<(Instant, Vec<u8>)>(depth);
    thread::spawn(move || {
        let mut buf = vec![0u8; PIECE];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    });
    thread::spawn(move || {
        let mut link_free = Instant::now();
        for (arrived, bytes) in rx {
            let transmit =
                link.rate.map_or(Duration::ZERO, |r| Duration::from_secs_f64(bytes.len() as f64 / r as f64));
            let depart = arrived.max(link_free) + transmit;
            link_free = depart;
            let deliver = depart + link.one_way_delay;
            let now = Instant::now();
            if deliver > now {
                thread::sleep(deliver - now);
            }
            if to.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
