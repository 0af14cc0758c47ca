//! Reading Connection files, filtering, grouping, ranking.

use crate::attr::{Attribute, ip_protocol_name};
use crate::condition::Fields;
use crate::groups::{Full, Group, GroupTable, Key, NO_ADDRESS, PARTITIONS, address, key_address, partition};
use crate::record::ConnectionView;
use crate::{Query, SortBy};
use foldhash::fast::RandomState;
use netcap_records::{FILE_EXTENSION, ReadError, RecordReader, RecordType};
use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Error that stops a query before it produces a result.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{file}: holds {record_type} records; netcap query reads Connection records")]
    NotConnection { file: String, record_type: &'static str },
    #[error("{dir}: {source}")]
    Dir { dir: String, source: std::io::Error },
    #[error("{dir}: no Connection record files (*{FILE_EXTENSION}) in this directory")]
    NoConnectionFiles { dir: String },
    #[error("no input: give record files or directories")]
    NoInput,
}

/// Per-group sums. "out" is client to server, "in" server to client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub packets_in: u64,
    pub packets_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub connections: u64,
}

impl Counters {
    pub fn packets(&self) -> u64 {
        self.packets_in.saturating_add(self.packets_out)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes_in.saturating_add(self.bytes_out)
    }

    pub(crate) fn add(&mut self, other: &Counters) {
        self.packets_in = self.packets_in.saturating_add(other.packets_in);
        self.packets_out = self.packets_out.saturating_add(other.packets_out);
        self.bytes_in = self.bytes_in.saturating_add(other.bytes_in);
        self.bytes_out = self.bytes_out.saturating_add(other.bytes_out);
        self.connections = self.connections.saturating_add(other.connections);
    }

    fn metric(&self, sort: SortBy) -> u64 {
        match sort {
            SortBy::Bytes => self.bytes(),
            SortBy::Packets => self.packets(),
            SortBy::Connections => self.connections,
        }
    }
}

/// One result row: the values of the grouped attributes (the others are at
/// their defaults) and the sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `None` when the record's address did not parse (or was empty).
    pub sip: Option<IpAddr>,
    pub dip: Option<IpAddr>,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
    pub app: String,
    pub counters: Counters,
}

impl Row {
    /// The value of `attr` as text (protocols by name; "" for a missing
    /// address or application).
    pub fn label(&self, attr: Attribute) -> String {
        match attr {
            Attribute::Sip => self.sip.map(|ip| ip.to_string()).unwrap_or_default(),
            Attribute::Dip => self.dip.map(|ip| ip.to_string()).unwrap_or_default(),
            Attribute::Sport => self.sport.to_string(),
            Attribute::Dport => self.dport.to_string(),
            Attribute::Proto => ip_protocol_name(self.proto).into_owned(),
            Attribute::App => self.app.clone(),
        }
    }

    /// The order of rows with equal sums; the engine ranks by
    /// `groups::Key::cmp_labels`, which tests check against this.
    #[cfg(test)]
    fn cmp_labels(&self, other: &Row) -> Ordering {
        (self.sip, self.dip, self.sport, self.dport, self.proto, &self.app).cmp(&(
            other.sip,
            other.dip,
            other.sport,
            other.dport,
            other.proto,
            &other.app,
        ))
    }
}

/// The answer to a query.
#[derive(Debug, Clone, Default)]
pub struct QueryResult {
    pub group: Vec<Attribute>,
    /// Ranked rows, at most `limit` of them.
    pub rows: Vec<Row>,
    /// Number of groups before the limit was applied.
    pub hits: usize,
    /// Sums over all groups (not only the rows kept).
    pub totals: Counters,
    pub connections_read: u64,
    pub connections_matched: u64,
    /// First packet of the earliest matching connection, last packet of the
    /// latest (Unix ns).
    pub first_ns: Option<i64>,
    pub last_ns: Option<i64>,
    pub files: usize,
    /// Damaged inputs: everything before the damage was counted.
    pub warnings: Vec<String>,
}

/// Application names seen by a query, numbered in the order first seen
/// ("" is 0). Shared by all threads, so that a key means the same on every
/// thread; each [`Partial`] caches the numbers it has looked up, so the
/// lock is taken about once per application and thread.
struct Apps {
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32, RandomState>,
}

impl Apps {
    fn new() -> Self {
        let mut ids = HashMap::default();
        ids.insert("".into(), 0);
        Apps { names: vec!["".into()], ids }
    }

    fn id(&mut self, app: &str) -> u32 {
        if let Some(id) = self.ids.get(app) {
            return *id;
        }
        // Four billion distinct names cannot come from one query's input;
        // saturating only merges names, it cannot fail.
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(app.into());
        self.ids.insert(app.into(), id);
        id
    }
}

/// What a query needs from each record, decided once, and what all
/// threads of one query share.
pub(crate) struct Plan<'q> {
    query: &'q Query,
    /// Parse addresses for the condition (grouping uses the raw bytes).
    parse_ips: bool,
    group: [bool; 6],
    hasher: RandomState,
    apps: Mutex<Apps>,
}

impl<'q> Plan<'q> {
    pub(crate) fn new(query: &'q Query) -> Self {
        let mut group = [false; 6];
        for (i, attr) in Attribute::ALL.iter().enumerate() {
            group[i] = query.group.contains(attr);
        }
        Plan {
            query,
            parse_ips: query.condition.as_ref().is_some_and(|c| c.uses_addresses()),
            group,
            hasher: RandomState::default(),
            apps: Mutex::new(Apps::new()),
        }
    }

    fn apps(&self) -> std::sync::MutexGuard<'_, Apps> {
        // A panic elsewhere cannot leave the table half-updated in a way
        // that matters here: at worst a name without its reverse entry.
        self.apps.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Aggregates of one thread's share of the input.
pub(crate) struct Partial {
    /// [`PARTITIONS`] tables; a group's partition comes from its hash.
    parts: Vec<GroupTable>,
    /// This thread's copy of the application numbers it has used.
    app_ids: HashMap<Box<str>, u32, RandomState>,
    read: u64,
    matched: u64,
    first_ns: i64,
    last_ns: i64,
    pub(crate) files: usize,
    warnings: Vec<String>,
    /// A table could not take another group (see [`Full`]).
    full: bool,
    /// Keyed connections not yet added (see [`Partial::flush`]).
    pending: Vec<Pending>,
}

/// Connections are added in batches of this many.
const BATCH: usize = 16;

struct Pending {
    hash: u64,
    key: Key,
    counters: Counters,
}

impl Partial {
    pub(crate) fn new() -> Self {
        Partial {
            parts: (0..PARTITIONS).map(|_| GroupTable::default()).collect(),
            app_ids: HashMap::default(),
            read: 0,
            matched: 0,
            first_ns: i64::MAX,
            last_ns: i64::MIN,
            files: 0,
            warnings: Vec::new(),
            full: false,
            pending: Vec::with_capacity(BATCH),
        }
    }

    #[inline]
    fn app_id(&mut self, plan: &Plan<'_>, app: &str) -> u32 {
        if let Some(id) = self.app_ids.get(app) {
            return *id;
        }
        let id = plan.apps().id(app);
        self.app_ids.insert(app.into(), id);
        id
    }

    #[inline]
    pub(crate) fn add(&mut self, plan: &Plan<'_>, v: &ConnectionView<'_>) {
        self.read += 1;
        let query = plan.query;
        let end_ns = v.last_timestamp_ns.max(v.timestamp_ns);
        if query.first_ns.is_some_and(|first| end_ns < first) || query.last_ns.is_some_and(|last| v.timestamp_ns > last)
        {
            return;
        }
        // Ports and protocol are uint32 on the wire; larger values cannot
        // come from a packet and saturate rather than alias a real port.
        let sport = u16::try_from(v.src_port).unwrap_or(u16::MAX);
        let dport = u16::try_from(v.dst_port).unwrap_or(u16::MAX);
        let proto = u8::try_from(v.ip_protocol).unwrap_or(u8::MAX);
        if let Some(condition) = &query.condition {
            let ip = |bytes| if plan.parse_ips { crate::record::ip_of(bytes) } else { None };
            let fields = Fields {
                sip: ip(v.src_ip),
                dip: ip(v.dst_ip),
                sport,
                dport,
                proto,
                app: v.application_protocol,
                packets: v.packets,
                bytes: v.bytes,
                duration_ns: u64::try_from(v.duration_ns).unwrap_or(0),
            };
            if !condition.matches(&fields) {
                return;
            }
        }
        self.matched += 1;
        self.first_ns = self.first_ns.min(v.timestamp_ns);
        self.last_ns = self.last_ns.max(end_ns);
        let g = &plan.group;
        let (sip, sip_family) = if g[0] { key_address(v.src_ip) } else { ([0; 16], NO_ADDRESS) };
        let (dip, dip_family) = if g[1] { key_address(v.dst_ip) } else { ([0; 16], NO_ADDRESS) };
        let key = Key {
            sip,
            dip,
            app: if g[5] { self.app_id(plan, v.application_protocol) } else { 0 },
            sport: if g[2] { sport } else { 0 },
            dport: if g[3] { dport } else { 0 },
            proto: if g[4] { proto } else { 0 },
            families: sip_family | dip_family << 2,
        };
        let counters = Counters {
            packets_in: v.server_packets,
            packets_out: v.client_packets,
            bytes_in: v.server_bytes,
            bytes_out: v.client_bytes,
            connections: 1,
        };
        let hash = key.hash(&plan.hasher);
        self.pending.push(Pending { hash, key, counters });
        if self.pending.len() == BATCH {
            self.flush();
        }
    }

    /// Adds the pending connections to their groups. Their slots are
    /// loaded first, all together: the loads miss the cache independently
    /// and overlap, where one connection at a time would wait for each.
    pub(crate) fn flush(&mut self) {
        let mut loaded = 0;
        for p in &self.pending {
            loaded ^= self.parts.get(partition(p.hash)).map_or(0, |table| table.touch(p.hash));
        }
        std::hint::black_box(loaded);
        for p in self.pending.drain(..) {
            if let Some(table) = self.parts.get_mut(partition(p.hash))
                && table.add(p.hash, &p.key, &p.counters).is_err()
            {
                self.full = true;
            }
        }
    }

    /// Merges the partials of one query (same plan): partition by
    /// partition, in parallel; each partition folds its smaller tables into
    /// its largest. Warnings keep the order of `partials`.
    pub(crate) fn merge_all(partials: Vec<Partial>) -> Partial {
        let mut merged = Partial::new();
        let mut columns: Vec<Vec<GroupTable>> = (0..PARTITIONS).map(|_| Vec::with_capacity(partials.len())).collect();
        for mut partial in partials {
            partial.flush();
            for (column, table) in columns.iter_mut().zip(partial.parts) {
                if !table.is_empty() {
                    column.push(table);
                }
            }
            merged.read += partial.read;
            merged.matched += partial.matched;
            merged.first_ns = merged.first_ns.min(partial.first_ns);
            merged.last_ns = merged.last_ns.max(partial.last_ns);
            merged.files += partial.files;
            merged.warnings.extend(partial.warnings);
            merged.full |= partial.full;
        }
        let (parts, absorbed): (Vec<GroupTable>, Vec<Result<(), Full>>) =
            columns.into_par_iter().map(merge_tables).unzip();
        merged.parts = parts;
        merged.full |= absorbed.iter().any(Result::is_err);
        merged
    }

    pub(crate) fn read<R: Read>(&mut self, plan: &Plan<'_>, mut reader: RecordReader<R>, name: &str) {
        self.files += 1;
        let ascending = crate::frames::written_by_netcap(reader.header());
        loop {
            let next = reader.next_raw();
            match next {
                Ok(Some(bytes)) => match if ascending {
                    ConnectionView::decode_ascending(bytes)
                } else {
                    ConnectionView::decode(bytes)
                } {
                    Ok(view) => self.add(plan, &view),
                    Err(e) => {
                        let record = reader.records_read();
                        self.warnings.push(format!("{name}: corrupt at record {record}: {e}"));
                        return;
                    }
                },
                Ok(None) => return,
                Err(e) => {
                    self.warnings.push(e.to_string());
                    // A damaged frame is skipped: read on after it.
                    if !e.is_recoverable() {
                        return;
                    }
                }
            }
        }
    }

    pub(crate) fn finish(mut self, plan: &Plan<'_>) -> QueryResult {
        self.flush();
        let query = plan.query;
        let apps = plan.apps();
        let names = &apps.names[..];
        let sort = query.sort;
        // Ranked by metric, then by label: groups are unique, so the order
        // is total, and the first `limit` of all groups are among the first
        // `limit` of their partitions. Those are picked in parallel, with
        // the totals, in one pass over each partition; then picked again.
        let order = |a: &(u64, &Group), b: &(u64, &Group)| {
            let by_metric = if query.ascending { a.0.cmp(&b.0) } else { b.0.cmp(&a.0) };
            by_metric.then_with(|| a.1.key.cmp_labels(&b.1.key, names))
        };
        let picks: Vec<(Vec<(u64, &Group)>, Counters)> = self
            .parts
            .par_iter()
            .map(|table| {
                let mut totals = Counters::default();
                let mut firsts: Vec<(u64, &Group)> = table
                    .groups()
                    .iter()
                    .map(|g| {
                        totals.add(&g.counters);
                        (g.counters.metric(sort), g)
                    })
                    .collect();
                if let Some(limit) = query.limit {
                    keep_first(&mut firsts, limit, order);
                }
                (firsts, totals)
            })
            .collect();
        let hits = self.parts.iter().map(GroupTable::len).sum();
        let mut totals = Counters::default();
        let mut chosen = Vec::new();
        for (firsts, sums) in picks {
            totals.add(&sums);
            chosen.extend(firsts);
        }
        if let Some(limit) = query.limit {
            keep_first(&mut chosen, limit, order);
        }
        chosen.par_sort_unstable_by(order);
        let rows = chosen
            .iter()
            .map(|(_, g)| Row {
                sip: address(&g.key.sip, g.key.families & 3),
                dip: address(&g.key.dip, g.key.families >> 2),
                sport: g.key.sport,
                dport: g.key.dport,
                proto: g.key.proto,
                app: names.get(g.key.app as usize).map_or("", |a| a).to_string(),
                counters: g.counters,
            })
            .collect();
        drop(chosen);
        // Hundreds of megabytes with many groups: freed on all cores.
        std::mem::take(&mut self.parts).into_par_iter().for_each(drop);
        let matched = self.matched;
        let mut warnings = self.warnings;
        if self.full {
            warnings.push("more than 4 billion groups in one table: the sums are incomplete".to_string());
        }
        QueryResult {
            group: query.group.clone(),
            rows,
            hits,
            totals,
            connections_read: self.read,
            connections_matched: matched,
            first_ns: (matched > 0).then_some(self.first_ns),
            last_ns: (matched > 0).then_some(self.last_ns),
            files: self.files,
            warnings,
        }
    }
}

/// Folds one partition's tables into the largest of them.
fn merge_tables(mut tables: Vec<GroupTable>) -> (GroupTable, Result<(), Full>) {
    let Some(largest) = (0..tables.len()).max_by_key(|i| tables.get(*i).map_or(0, GroupTable::len)) else {
        return (GroupTable::default(), Ok(()));
    };
    let mut base = tables.swap_remove(largest);
    let absorbed = tables.into_iter().try_for_each(|table| base.absorb(table));
    (base, absorbed)
}

/// Keeps the first `n` items of `items` in `order`, in no particular order.
fn keep_first<T>(items: &mut Vec<T>, n: usize, order: impl Fn(&T, &T) -> Ordering) {
    if n == 0 {
        items.clear();
    } else if n < items.len() {
        items.select_nth_unstable_by(n - 1, order);
        items.truncate(n);
    }
}

/// Expands `paths` into the Connection record files to read: a file is
/// taken as it is (and must hold Connection records, checked when it is
/// read); a directory contributes every `*.ncap.zst` whose header says
/// Connection, whatever its name (collectors rotate names).
pub fn collect_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, QueryError> {
    if paths.is_empty() {
        return Err(QueryError::NoInput);
    }
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let dir = path.display().to_string();
        let entries = std::fs::read_dir(path).map_err(|source| QueryError::Dir { dir: dir.clone(), source })?;
        let mut found: Vec<PathBuf> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| QueryError::Dir { dir: dir.clone(), source })?;
            let candidate = entry.path();
            let named = candidate.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(FILE_EXTENSION));
            if named && candidate.is_file() && holds_connections(&candidate) {
                found.push(candidate);
            }
        }
        if found.is_empty() {
            return Err(QueryError::NoConnectionFiles { dir });
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Whether a file's header says Connection. Unreadable files are not
/// Connection files: in a directory they are someone else's.
fn holds_connections(path: &Path) -> bool {
    RecordReader::open(path).is_ok_and(|r| r.record_type() == RecordType::Connection)
}

fn open_connection_file(path: &Path) -> Result<RecordReader<std::fs::File>, QueryError> {
    let reader = RecordReader::open(path)?;
    check_type(&reader, &path.display().to_string())?;
    Ok(reader)
}

fn check_type<R: Read>(reader: &RecordReader<R>, name: &str) -> Result<(), QueryError> {
    match reader.record_type() {
        RecordType::Connection => Ok(()),
        other => Err(QueryError::NotConnection { file: name.to_string(), record_type: other.name() }),
    }
}

/// Runs `query` over record files, several at a time. Every file is opened
/// (and its type checked) before any is read, so a wrong file fails fast.
pub fn run(files: &[PathBuf], query: &Query) -> Result<QueryResult, QueryError> {
    let readers = files.iter().map(|f| open_connection_file(f)).collect::<Result<Vec<_>, _>>()?;
    let plan = Plan::new(query);
    let partial = readers
        .into_par_iter()
        .zip(files.par_iter())
        .map(|(reader, path)| {
            // Frames in parallel when the file allows; else (damage, or a
            // layout netcap does not write) streamed, with precise warnings.
            crate::frames::read(path, &plan).unwrap_or_else(|| {
                let mut partial = Partial::new();
                partial.read(&plan, reader, &path.display().to_string());
                partial
            })
        })
        // Pairwise as files finish, which bounds memory with many files.
        .reduce(Partial::new, |a, b| Partial::merge_all(vec![a, b]));
    Ok(partial.finish(&plan))
}

/// Runs `query` over already opened readers (standard input, for one), one
/// after the other.
pub fn run_readers<R: Read>(readers: Vec<(String, RecordReader<R>)>, query: &Query) -> Result<QueryResult, QueryError> {
    for (name, reader) in &readers {
        check_type(reader, name)?;
    }
    let plan = Plan::new(query);
    let mut partial = Partial::new();
    for (name, reader) in readers {
        partial.read(&plan, reader, &name);
    }
    Ok(partial.finish(&plan))
}

/// Runs `query` over decoded views (for tests and benchmarks).
pub fn run_views<'a>(views: impl IntoIterator<Item = ConnectionView<'a>>, query: &Query) -> QueryResult {
    let plan = Plan::new(query);
    let mut partial = Partial::new();
    for view in views {
        partial.add(&plan, &view);
    }
    partial.finish(&plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Condition;

    /// Record bytes of an address, for views that live as long as the test.
    fn octets(ip: &str) -> &'static [u8] {
        let bytes = match ip.parse::<IpAddr>().unwrap() {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        Box::leak(bytes.into_boxed_slice())
    }

    fn view(
        sip: &'static str,
        dip: &'static str,
        dport: u32,
        app: &'static str,
        out: u64,
        inn: u64,
    ) -> ConnectionView<'static> {
        ConnectionView {
            timestamp_ns: 1_000,
            last_timestamp_ns: 2_000,
            duration_ns: 1_000,
            application_protocol: app,
            ip_protocol: 6,
            src_ip: octets(sip),
            dst_ip: octets(dip),
            src_port: 40_000,
            dst_port: dport,
            packets: out / 100 + inn / 100,
            bytes: out + inn,
            client_packets: out / 100,
            client_bytes: out,
            server_packets: inn / 100,
            server_bytes: inn,
        }
    }

    fn views() -> Vec<ConnectionView<'static>> {
        vec![
            view("10.0.0.1", "192.0.2.1", 443, "TLS", 1_000, 9_000),
            view("10.0.0.1", "192.0.2.1", 443, "TLS", 500, 500),
            view("10.0.0.2", "192.0.2.1", 443, "TLS", 100, 200),
            view("10.0.0.1", "192.0.2.9", 53, "DNS", 100, 300),
            view("172.16.0.1", "192.0.2.1", 80, "HTTP", 50_000, 100),
            view("2001:db8::1", "2001:db8::2", 443, "", 700, 700),
        ]
    }

    fn query(group: &str, condition: Option<&str>) -> Query {
        Query {
            group: Attribute::parse_list(group).unwrap(),
            condition: condition.map(|c| Condition::parse(c).unwrap()),
            ..Query::default()
        }
    }

    #[test]
    fn groups_sums_and_ranks() {
        let result = run_views(views(), &query("sip,dip", None));
        assert_eq!(result.hits, 5);
        assert_eq!(result.connections_read, 6);
        assert_eq!(result.connections_matched, 6);
        let labels: Vec<String> =
            result.rows.iter().map(|r| format!("{} {}", r.label(Attribute::Sip), r.label(Attribute::Dip))).collect();
        assert_eq!(
            labels,
            [
                "172.16.0.1 192.0.2.1",
                "10.0.0.1 192.0.2.1",
                "2001:db8::1 2001:db8::2",
                "10.0.0.1 192.0.2.9",
                "10.0.0.2 192.0.2.1"
            ]
        );
        let top = &result.rows[1].counters;
        assert_eq!(
            (top.bytes_out, top.bytes_in, top.packets_out, top.packets_in, top.connections),
            (1_500, 9_500, 15, 95, 2)
        );
        assert_eq!(result.totals.bytes(), 63_200);
        assert_eq!(result.totals.connections, 6);
        assert_eq!((result.first_ns, result.last_ns), (Some(1_000), Some(2_000)));
    }

    #[test]
    fn conditions_limits_sort_orders() {
        let result = run_views(views(), &query("dport", Some("dport = 443 and sip != 10.0.0.0/8")));
        assert_eq!(result.rows.len(), 1);
        assert_eq!(result.rows[0].dport, 443);
        assert_eq!(result.rows[0].counters.connections, 1);
        assert_eq!(result.connections_matched, 1);

        let mut q = query("sip", None);
        q.limit = Some(2);
        let result = run_views(views(), &q);
        assert_eq!(result.hits, 4);
        assert_eq!(result.rows.len(), 2);
        assert_eq!(result.rows[0].label(Attribute::Sip), "172.16.0.1");
        assert_eq!(result.totals.bytes(), 63_200, "totals cover every group, not only those shown");

        q.ascending = true;
        let result = run_views(views(), &q);
        let labels: Vec<String> = result.rows.iter().map(|r| r.label(Attribute::Sip)).collect();
        assert_eq!(labels, ["10.0.0.2", "2001:db8::1"]);

        q.sort = SortBy::Connections;
        q.ascending = false;
        q.limit = None;
        let result = run_views(views(), &q);
        assert_eq!(result.rows[0].label(Attribute::Sip), "10.0.0.1");
        assert_eq!(result.rows[0].counters.connections, 3);

        let mut q = query("app,proto", None);
        q.sort = SortBy::Packets;
        let result = run_views(views(), &q);
        let labels: Vec<String> =
            result.rows.iter().map(|r| format!("{}/{}", r.label(Attribute::App), r.label(Attribute::Proto))).collect();
        assert_eq!(labels, ["HTTP/TCP", "TLS/TCP", "/TCP", "DNS/TCP"]);

        let mut q = query("sip", None);
        q.limit = Some(0);
        assert!(run_views(views(), &q).rows.is_empty());
    }

    #[test]
    fn time_range_keeps_overlapping_connections() {
        let mut early = view("10.0.0.1", "192.0.2.1", 443, "TLS", 1, 1);
        early.timestamp_ns = 100;
        early.last_timestamp_ns = 200;
        let mut late = early;
        late.timestamp_ns = 300;
        late.last_timestamp_ns = 400;
        late.src_ip = octets("10.0.0.2");
        let run = |first, last| {
            let mut q = query("sip", None);
            q.first_ns = first;
            q.last_ns = last;
            run_views([early, late], &q).rows.iter().map(|r| r.label(Attribute::Sip)).collect::<Vec<_>>().join(" ")
        };
        assert_eq!(run(None, None), "10.0.0.1 10.0.0.2");
        assert_eq!(run(Some(201), None), "10.0.0.2");
        assert_eq!(run(Some(200), None), "10.0.0.1 10.0.0.2");
        assert_eq!(run(None, Some(299)), "10.0.0.1");
        assert_eq!(run(Some(150), Some(350)), "10.0.0.1 10.0.0.2");
        assert_eq!(run(Some(250), Some(260)), "");
    }

    #[test]
    fn merging_partials_keeps_applications() {
        let q = query("app", None);
        let plan = Plan::new(&q);
        let mut a = Partial::new();
        let mut b = Partial::new();
        let all = views();
        for v in &all[..3] {
            a.add(&plan, v);
        }
        for v in &all[3..] {
            b.add(&plan, v);
        }
        let merged = Partial::merge_all(vec![a, b]).finish(&plan);
        let single = run_views(views(), &q);
        assert_eq!(merged.rows, single.rows);
        assert_eq!(merged.connections_read, 6);
    }

    /// splitmix64: reproducible pseudo-random numbers without a dependency.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn pick<T: Copy>(&mut self, items: &[T]) -> T {
            items[self.below(items.len() as u64) as usize]
        }
    }

    /// Connections over few enough values that groups repeat and sums tie:
    /// IPv4, IPv6, and malformed or empty addresses, applications with and
    /// without a name, counters from tiny to near-saturating.
    fn random_views(random: &mut Random, n: usize) -> Vec<ConnectionView<'static>> {
        const ADDRESSES: [&[u8]; 8] = [
            &[10, 0, 0, 1],
            &[10, 0, 0, 2],
            &[192, 0, 2, 1],
            &[0, 0, 0, 0],
            &[0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1],
            &[1, 2, 3],
            &[],
        ];
        const APPS: [&str; 5] = ["TLS", "DNS", "", "HTTP", "ünï"];
        (0..n)
            .map(|_| {
                let counter = |random: &mut Random| match random.below(10) {
                    0 => u64::MAX / 3,
                    1..=3 => random.below(4),
                    _ => random.below(100_000),
                };
                let client_packets = counter(random);
                let server_packets = counter(random);
                let client_bytes = counter(random);
                let server_bytes = counter(random);
                ConnectionView {
                    timestamp_ns: random.below(1000) as i64,
                    last_timestamp_ns: random.below(2000) as i64,
                    duration_ns: 0,
                    application_protocol: random.pick(&APPS),
                    ip_protocol: random.pick(&[6, 17, 1, 300]),
                    src_ip: random.pick(&ADDRESSES),
                    dst_ip: random.pick(&ADDRESSES),
                    src_port: random.pick(&[40_000, 40_001, 53, 70_000]),
                    dst_port: random.pick(&[443, 80, 53]),
                    packets: client_packets.saturating_add(server_packets),
                    bytes: client_bytes.saturating_add(server_bytes),
                    client_packets,
                    client_bytes,
                    server_packets,
                    server_bytes,
                }
            })
            .collect()
    }

    /// What a query answers, computed the plain way: one ordered map of
    /// rows, every group sorted.
    fn reference(views: &[ConnectionView<'_>], q: &Query) -> (Vec<Row>, Counters, usize) {
        let has = |a| q.group.contains(&a);
        let mut groups: std::collections::BTreeMap<_, Counters> = std::collections::BTreeMap::new();
        for v in views {
            let key = (
                if has(Attribute::Sip) { crate::record::ip_of(v.src_ip) } else { None },
                if has(Attribute::Dip) { crate::record::ip_of(v.dst_ip) } else { None },
                if has(Attribute::Sport) { u16::try_from(v.src_port).unwrap_or(u16::MAX) } else { 0 },
                if has(Attribute::Dport) { u16::try_from(v.dst_port).unwrap_or(u16::MAX) } else { 0 },
                if has(Attribute::Proto) { u8::try_from(v.ip_protocol).unwrap_or(u8::MAX) } else { 0 },
                if has(Attribute::App) { v.application_protocol.to_string() } else { String::new() },
            );
            groups.entry(key).or_default().add(&Counters {
                packets_in: v.server_packets,
                packets_out: v.client_packets,
                bytes_in: v.server_bytes,
                bytes_out: v.client_bytes,
                connections: 1,
            });
        }
        let mut totals = Counters::default();
        let mut rows: Vec<Row> = groups
            .into_iter()
            .map(|((sip, dip, sport, dport, proto, app), counters)| {
                totals.add(&counters);
                Row { sip, dip, sport, dport, proto, app, counters }
            })
            .collect();
        let hits = rows.len();
        rows.sort_by(|a, b| {
            let order = a.counters.metric(q.sort).cmp(&b.counters.metric(q.sort));
            let order = if q.ascending { order } else { order.reverse() };
            order.then_with(|| a.cmp_labels(b))
        });
        rows.truncate(q.limit.unwrap_or(usize::MAX));
        (rows, totals, hits)
    }

    /// The partitioned tables, merged from any number of partials on any
    /// number of threads, answer as one plain map does.
    #[test]
    fn partitioned_merge_matches_a_single_map() {
        let mut random = Random(7);
        let groupings = ["sip,dip", "raw", "dport,proto", "app", "sip", "sport,app,dip"];
        let sorts = [SortBy::Bytes, SortBy::Packets, SortBy::Connections];
        for round in 0..60 {
            let n = 1 + random.below(3000) as usize;
            let views = random_views(&mut random, n);
            let mut q = query(random.pick(&groupings), None);
            q.sort = random.pick(&sorts);
            q.ascending = random.below(2) == 0;
            q.limit = random.pick(&[None, Some(0), Some(1), Some(3), Some(50), Some(100_000)]);
            let (rows, totals, hits) = reference(&views, &q);
            let pieces = 1 + random.below(6) as usize;
            let threads = 1 + random.below(4) as usize;
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let result = pool.install(|| {
                let plan = Plan::new(&q);
                let partials = views
                    .chunks(views.len().div_ceil(pieces))
                    .map(|chunk| {
                        let mut partial = Partial::new();
                        chunk.iter().for_each(|v| partial.add(&plan, v));
                        partial
                    })
                    .collect();
                Partial::merge_all(partials).finish(&plan)
            });
            let context = format!("round {round}: {:?} {pieces} pieces, {threads} threads", q.group);
            assert_eq!(result.rows, rows, "{context}");
            assert_eq!((result.totals, result.hits), (totals, hits), "{context}");
            assert_eq!(result.connections_read, views.len() as u64, "{context}");
        }
    }
}
