//! Output: goQuery's aligned table, CSV, JSON.

use crate::engine::{Counters, QueryResult, Row};
use crate::time::{format_rfc3339, format_time};
use crate::{Query, SortBy};
use std::io::{self, Write};
use std::time::Duration;

/// What the summary lines report besides the result.
#[derive(Debug, Clone, Copy)]
pub struct Summary<'a> {
    pub query: &'a Query,
    /// The condition as the user wrote it.
    pub condition: Option<&'a str>,
    /// The inputs, as shown after "Timespan / Source".
    pub source: &'a str,
    pub elapsed: Duration,
}

/// A count in goQuery's style: two decimals and a 1000-based unit
/// (`308.75 k`, `1.32 M`); below 1000 the unit is a blank, so that columns
/// stay aligned (`813.00  `).
pub fn human_count(n: u64) -> String {
    human(n, 1000.0, &["  ", " k", " M", " G", " T", " P", " E"])
}

/// A byte count in goQuery's style: 1024-based (`17.71 MB`, `271.98 kB`,
/// `813.00  B`).
pub fn human_bytes(n: u64) -> String {
    human(n, 1024.0, &["  B", " kB", " MB", " GB", " TB", " PB", " EB"])
}

fn human(n: u64, base: f64, units: &[&str]) -> String {
    let mut value = n as f64;
    let mut unit = 0;
    while value >= base && unit + 1 < units.len() {
        value /= base;
        unit += 1;
    }
    format!("{value:.2}{}", units[unit])
}

fn percent(part: u64, total: u64) -> f64 {
    if total == 0 { 0.0 } else { part as f64 * 100.0 / total as f64 }
}

fn sort_description(sort: SortBy) -> &'static str {
    match sort {
        SortBy::Bytes => "accumulated data volume (sent and received)",
        SortBy::Packets => "accumulated packets (sent and received)",
        SortBy::Connections => "number of connections",
    }
}

/// goQuery's table: the grouped attributes, packets in/out with their
/// share, bytes in/out with their share; a `...` line when rows were left
/// out, the per-direction sums over all groups, the grand totals and a
/// summary.
pub fn table(result: &QueryResult, summary: &Summary<'_>, out: &mut dyn Write) -> io::Result<()> {
    if result.rows.is_empty() {
        writeln!(out, "No connections match the query.")?;
        return footer(result, summary, out);
    }
    let attrs = &result.group;
    let total_packets = result.totals.packets();
    let total_bytes = result.totals.bytes();
    // Cells per row: the attributes, then six counter columns.
    let mut lines: Vec<Vec<String>> = Vec::with_capacity(result.rows.len() + 2);
    let mut header_top: Vec<String> = attrs.iter().map(|_| String::new()).collect();
    header_top.extend(["packets", "packets", "", "bytes", "bytes", ""].map(String::from));
    let mut header: Vec<String> = attrs.iter().map(|a| a.name().to_string()).collect();
    header.extend(["in", "out", "%", "in", "out", "%"].map(String::from));
    lines.push(header_top);
    lines.push(header);
    for row in &result.rows {
        let c = &row.counters;
        let mut cells: Vec<String> = attrs
            .iter()
            .map(|a| {
                let label = row.label(*a);
                if label.is_empty() { "-".to_string() } else { label }
            })
            .collect();
        cells.extend([
            human_count(c.packets_in),
            human_count(c.packets_out),
            format!("{:.2}", percent(c.packets(), total_packets)),
            human_bytes(c.bytes_in),
            human_bytes(c.bytes_out),
            format!("{:.2}", percent(c.bytes(), total_bytes)),
        ]);
        lines.push(cells);
    }
    let blank_attrs = || attrs.iter().map(|_| String::new()).collect::<Vec<_>>();
    if result.rows.len() < result.hits {
        let mut cells = blank_attrs();
        cells.extend(["...", "...", "", "...", "...", ""].map(String::from));
        lines.push(cells);
    }
    let t = &result.totals;
    let mut sums = blank_attrs();
    sums.extend([
        human_count(t.packets_in),
        human_count(t.packets_out),
        String::new(),
        human_bytes(t.bytes_in),
        human_bytes(t.bytes_out),
        String::new(),
    ]);
    lines.push(sums);
    let mut totals = blank_attrs();
    totals[0] = "Totals:".to_string();
    totals.extend([
        String::new(),
        human_count(total_packets),
        String::new(),
        String::new(),
        human_bytes(total_bytes),
        String::new(),
    ]);

    let columns = attrs.len() + 6;
    let mut widths = vec![0usize; columns];
    for cells in lines.iter().chain(std::iter::once(&totals)) {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let print = |out: &mut dyn Write, cells: &[String]| -> io::Result<()> {
        let mut line = String::new();
        for (cell, width) in cells.iter().zip(&widths) {
            line.push_str("  ");
            line.push_str(&" ".repeat(width - cell.chars().count()));
            line.push_str(cell);
        }
        writeln!(out, "{}", line.trim_end())
    };
    for cells in &lines {
        print(out, cells)?;
    }
    writeln!(out)?;
    print(out, &totals)?;
    writeln!(out)?;
    footer(result, summary, out)
}

fn footer(result: &QueryResult, summary: &Summary<'_>, out: &mut dyn Write) -> io::Result<()> {
    let timespan = match (result.first_ns, result.last_ns) {
        (Some(first), Some(last)) => format!("[{}, {}]", format_time(first), format_time(last)),
        _ => "[-]".to_string(),
    };
    writeln!(out, "Timespan / Source    : {timespan} / {}", summary.source)?;
    writeln!(
        out,
        "Sorted by            : {}{}",
        sort_description(summary.query.sort),
        if summary.query.ascending { ", ascending" } else { "" }
    )?;
    writeln!(
        out,
        "Query stats          : {} hits ({} of {} connections) in {}",
        result.hits,
        result.connections_matched,
        result.connections_read,
        format_elapsed(summary.elapsed)
    )?;
    if let Some(condition) = summary.condition {
        writeln!(out, "Conditions           : {condition}")?;
    }
    Ok(())
}

fn format_elapsed(elapsed: Duration) -> String {
    let ms = elapsed.as_secs_f64() * 1000.0;
    if ms < 1000.0 { format!("{ms:.0}ms") } else { format!("{:.2}s", ms / 1000.0) }
}

const COUNTER_COLUMNS: [&str; 7] =
    ["packets_in", "packets_out", "packets_percent", "bytes_in", "bytes_out", "bytes_percent", "connections"];

/// One line per row: the attributes, then raw counts and two-decimal
/// percentages. Totals are not a row (they are in the JSON output).
pub fn csv(result: &QueryResult, out: &mut dyn Write) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    let mut header: Vec<&str> = result.group.iter().map(|a| a.name()).collect();
    header.extend(COUNTER_COLUMNS);
    writer.write_record(&header).map_err(csv_to_io)?;
    let total_packets = result.totals.packets();
    let total_bytes = result.totals.bytes();
    for row in &result.rows {
        let c = &row.counters;
        let mut record: Vec<String> = result.group.iter().map(|a| row.label(*a)).collect();
        record.extend([
            c.packets_in.to_string(),
            c.packets_out.to_string(),
            format!("{:.2}", percent(c.packets(), total_packets)),
            c.bytes_in.to_string(),
            c.bytes_out.to_string(),
            format!("{:.2}", percent(c.bytes(), total_bytes)),
            c.connections.to_string(),
        ]);
        writer.write_record(&record).map_err(csv_to_io)?;
    }
    writer.flush()?;
    Ok(())
}

/// The I/O error inside a CSV error as it is, so that the caller still
/// sees `BrokenPipe` (`netcap query -csv | head`) and exits quietly.
fn csv_to_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

fn json_counters(c: &Counters) -> String {
    format!(
        "\"packets_in\":{},\"packets_out\":{},\"packets\":{},\"bytes_in\":{},\"bytes_out\":{},\"bytes\":{},\"connections\":{}",
        c.packets_in,
        c.packets_out,
        c.packets(),
        c.bytes_in,
        c.bytes_out,
        c.bytes(),
        c.connections
    )
}

fn json_row(result: &QueryResult, row: &Row) -> String {
    let mut fields: Vec<String> = result
        .group
        .iter()
        .map(|a| {
            let value = match a {
                crate::Attribute::Sport => row.sport.to_string(),
                crate::Attribute::Dport => row.dport.to_string(),
                _ => json_string(&row.label(*a)),
            };
            format!("{}:{value}", json_string(a.name()))
        })
        .collect();
    let c = &row.counters;
    fields.push(json_counters(c));
    fields.push(format!(
        "\"packets_percent\":{:.4},\"bytes_percent\":{:.4}",
        percent(c.packets(), result.totals.packets()),
        percent(c.bytes(), result.totals.bytes())
    ));
    format!("{{{}}}", fields.join(","))
}

/// One JSON document: the query, a summary with the totals, and the rows
/// (ports as numbers, addresses, protocols and applications as strings).
pub fn json(result: &QueryResult, summary: &Summary<'_>, out: &mut dyn Write) -> io::Result<()> {
    let q = summary.query;
    let optional_time = |t: Option<i64>| t.map_or("null".to_string(), |t| json_string(&format_rfc3339(t)));
    let attributes: Vec<String> = result.group.iter().map(|a| json_string(a.name())).collect();
    writeln!(out, "{{")?;
    writeln!(
        out,
        "  \"query\": {{\"attributes\":[{}],\"condition\":{},\"first\":{},\"last\":{},\"sort_by\":\"{}\",\"ascending\":{},\"limit\":{}}},",
        attributes.join(","),
        summary.condition.map_or("null".to_string(), json_string),
        optional_time(q.first_ns),
        optional_time(q.last_ns),
        q.sort.name(),
        q.ascending,
        q.limit.map_or("null".to_string(), |l| l.to_string())
    )?;
    writeln!(
        out,
        "  \"summary\": {{\"source\":{},\"files\":{},\"time_first\":{},\"time_last\":{},\"hits\":{},\"rows\":{},\"connections_read\":{},\"connections_matched\":{},\"elapsed_ms\":{:.3},\"totals\":{{{}}}}},",
        json_string(summary.source),
        result.files,
        optional_time(result.first_ns),
        optional_time(result.last_ns),
        result.hits,
        result.rows.len(),
        result.connections_read,
        result.connections_matched,
        summary.elapsed.as_secs_f64() * 1000.0,
        json_counters(&result.totals)
    )?;
    if result.rows.is_empty() {
        writeln!(out, "  \"rows\": []")?;
    } else {
        writeln!(out, "  \"rows\": [")?;
        for (i, row) in result.rows.iter().enumerate() {
            let comma = if i + 1 < result.rows.len() { "," } else { "" };
            writeln!(out, "    {}{comma}", json_row(result, row))?;
        }
        writeln!(out, "  ]")?;
    }
    writeln!(out, "}}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Attribute, Query};
    use std::net::IpAddr;

    #[test]
    fn humanised_units_follow_goquery() {
        assert_eq!(human_count(813), "813.00  ");
        assert_eq!(human_count(308_750), "308.75 k");
        assert_eq!(human_count(1_322_790), "1.32 M");
        assert_eq!(human_count(0), "0.00  ");
        assert_eq!(human_bytes(17_710_000), "16.89 MB");
        assert_eq!(human_bytes(278_507), "271.98 kB");
        assert_eq!(human_bytes(1_341_817_405), "1.25 GB");
        assert_eq!(human_bytes(1023), "1023.00  B");
        assert_eq!(human_bytes(u64::MAX), "16.00 EB");
    }

    fn row(sip: &str, dip: &str, pin: u64, pout: u64, bin: u64, bout: u64) -> Row {
        Row {
            sip: sip.parse::<IpAddr>().ok(),
            dip: dip.parse::<IpAddr>().ok(),
            sport: 0,
            dport: 0,
            proto: 0,
            app: String::new(),
            counters: Counters { packets_in: pin, packets_out: pout, bytes_in: bin, bytes_out: bout, connections: 1 },
        }
    }

    fn result() -> QueryResult {
        let rows = vec![
            row("125.167.76.152", "237.147.182.13", 308_750, 576_810, 18_570_000, 844_660_000),
            row("121.18.119.116", "125.167.76.152", 149_810, 24_000, 207_680_000, 10_110_000),
        ];
        let totals = Counters {
            packets_in: 630_680,
            packets_out: 692_110,
            bytes_in: 445_000_000,
            bytes_out: 896_815_000,
            connections: 268,
        };
        QueryResult {
            group: vec![Attribute::Sip, Attribute::Dip],
            rows,
            hits: 268,
            totals,
            connections_read: 1000,
            connections_matched: 300,
            first_ns: Some(1_456_428_575_000_000_000),
            last_ns: Some(1_456_472_675_000_000_000),
            files: 1,
            warnings: vec![],
        }
    }

    #[test]
    fn table_looks_like_goquery() {
        let query = Query { group: vec![Attribute::Sip, Attribute::Dip], limit: Some(2), ..Query::default() };
        let summary = Summary {
            query: &query,
            condition: Some("dport = 443"),
            source: "Connection.ncap.zst",
            elapsed: Duration::from_millis(17),
        };
        let mut out = Vec::new();
        table(&result(), &summary, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        // The literal starts with a newline so that the first line keeps
        // its leading blanks.
        let expected = "
                                   packets   packets             bytes      bytes
             sip             dip        in       out      %         in        out      %
  125.167.76.152  237.147.182.13  308.75 k  576.81 k  66.95   17.71 MB  805.53 MB  64.33
  121.18.119.116  125.167.76.152  149.81 k   24.00 k  13.14  198.06 MB    9.64 MB  16.23
                                       ...       ...               ...        ...
                                  630.68 k  692.11 k         424.39 MB  855.27 MB

         Totals:                              1.32 M                      1.25 GB

Timespan / Source    : [2016-02-25 19:29:35, 2016-02-26 07:44:35] / Connection.ncap.zst
Sorted by            : accumulated data volume (sent and received)
Query stats          : 268 hits (300 of 1000 connections) in 17ms
Conditions           : dport = 443
";
        assert_eq!(format!("\n{text}"), expected, "\n{text}");
    }

    #[test]
    fn csv_and_json_carry_raw_numbers() {
        let query = Query { group: vec![Attribute::Sip, Attribute::Dip], ..Query::default() };
        let mut out = Vec::new();
        csv(&result(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "sip,dip,packets_in,packets_out,packets_percent,bytes_in,bytes_out,bytes_percent,connections"
        );
        assert_eq!(lines[1], "125.167.76.152,237.147.182.13,308750,576810,66.95,18570000,844660000,64.33,1");

        let summary = Summary { query: &query, condition: None, source: "x", elapsed: Duration::ZERO };
        let mut out = Vec::new();
        json(&result(), &summary, &mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["rows"][0]["sip"], "125.167.76.152");
        assert_eq!(value["rows"][0]["bytes_out"], 844_660_000u64);
        assert_eq!(value["rows"][0]["packets"], 885_560u64);
        assert_eq!(value["summary"]["totals"]["connections"], 268);
        assert_eq!(value["summary"]["time_first"], "2016-02-25T19:29:35.000000000Z");
        assert_eq!(value["query"]["condition"], serde_json::Value::Null);
        assert_eq!(value["query"]["attributes"][1], "dip");
    }
}
