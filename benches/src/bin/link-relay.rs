//! Runs the bench's link emulator in front of a server, for trying a client by hand through a link like a
//! user's: `link-relay UPSTREAM_ADDR [MBIT_PER_S] [RTT_MS]` prints the relay's address and runs until killed.

use std::time::Duration;

use agentry_benches::relay::{Link, Relay};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let upstream = args.next().ok_or("usage: link-relay UPSTREAM_ADDR [MBIT_PER_S] [RTT_MS]")?.parse()?;
    let mbit: u64 = args.next().map_or(Ok(100), |a| a.parse())?;
    let rtt: u64 = args.next().map_or(Ok(20), |a| a.parse())?;
    let link = Link { rate: Some(mbit * 1_000_000 / 8), one_way_delay: Duration::from_millis(rtt / 2) };
    let relay = Relay::start(upstream, link)?;
    println!("{}", relay.url());
    std::io::Write::flush(&mut std::io::stdout())?;
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
