//! The join alone, for `scripts/bench-label`: how long matching and
//! labelling connections against the ground truth takes, without rendering
//! or writing the tables (which is most of `netcap label`'s time).
//!
//! ```sh
//! cargo run --release -p netcap-label --example bench_join -- Connection.ncap.zst eve.json
//! ```
//!
//! Reads every record of the file into memory first (so that neither
//! decompression nor the disk is timed), then, on one thread: reads the
//! join fields of each record from its protobuf bytes, collects its
//! matches through the index and picks its label, as `netcap label` does.
//! Prints the times of reading the ground truth, building the index and
//! the join, and how many connections got a label. Then, for scale, the
//! same join done by scanning every alert for each of the first 2,000
//! connections (what an unindexed labeller does), extrapolated.

use netcap_label::join::{Conn, Joiner, Labelled};
use netcap_label::wire::JoinLayout;
use netcap_label::{JoinOptions, Options, read_ground_truth};
use netcap_records::{RecordReader, RecordType};
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: bench_join CONNECTION_FILE EVE_JSON";
    let records = PathBuf::from(args.next().ok_or(usage)?);
    let eve = PathBuf::from(args.next().ok_or(usage)?);

    let mut reader = RecordReader::open(&records)?;
    if reader.record_type() != RecordType::Connection {
        return Err(format!("{}: not Connection records", records.display()).into());
    }
    let mut data = Vec::new();
    let mut ends = Vec::new();
    while let Some(bytes) = reader.next_raw()? {
        data.extend_from_slice(bytes);
        ends.push(data.len());
    }
    let record = |i: usize| &data[if i == 0 { 0 } else { ends[i - 1] }..ends[i]];

    let start = Instant::now();
    let options = Options { eve: vec![eve], ..Options::default() };
    let truth = read_ground_truth(&options)?;
    let read_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let joiner = Joiner::new(&truth, JoinOptions::default());
    let index_s = start.elapsed().as_secs_f64();

    let desc = RecordType::Connection.descriptor().ok_or("no Connection schema")?;
    let layout = JoinLayout::new(desc);
    let (mut matches, mut labelled) = (Vec::new(), Labelled::default());
    let mut labelled_connections = 0u64;
    let start = Instant::now();
    for i in 0..ends.len() {
        let joined = layout.read(record(i)).ok_or("a record does not decode")?;
        let conn = Conn::from_joined(&joined);
        joiner.matches(&conn, &mut matches);
        labelled_connections += u64::from(joiner.label(&conn, &matches, &mut labelled));
    }
    let join_s = start.elapsed().as_secs_f64();
    let n = ends.len() as f64;
    println!(
        "{} alerts: read in {read_s:.3} s, indexed in {index_s:.3} s; join of {} connections: {join_s:.3} s on one thread \
         ({:.0} ns each, {:.1} M connections/s), {labelled_connections} labelled",
        truth.alerts.len(),
        ends.len(),
        join_s * 1e9 / n,
        n / join_s / 1e6
    );

    // The unindexed way, on a sample: every alert against every connection.
    let sample = ends.len().min(2_000);
    let slack = JoinOptions::default().slack_ns;
    let start = Instant::now();
    let mut hits = 0u64;
    for i in 0..sample {
        let joined = layout.read(record(i)).ok_or("a record does not decode")?;
        let conn = Conn::from_joined(&joined);
        for alert in &truth.alerts {
            let in_time = alert.time_ns >= conn.first_ns - slack && alert.time_ns <= conn.last_ns + slack;
            let same = match &alert.community_id {
                Some(id) => id == conn.community_id,
                None => {
                    alert.proto == conn.proto
                        && ((alert.src == conn.src && alert.dst == conn.dst)
                            || (alert.src == conn.dst && alert.dst == conn.src))
                }
            };
            hits += u64::from(in_time && same);
        }
    }
    let scan_s = start.elapsed().as_secs_f64();
    if sample > 0 {
        println!(
            "scanning every alert per connection instead: {:.0} µs each on {sample} connections ({hits} matches), \
             {:.0} s for all",
            scan_s * 1e6 / sample as f64,
            scan_s / sample as f64 * n
        );
    }
    Ok(())
}
